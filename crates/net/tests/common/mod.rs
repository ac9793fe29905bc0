//! Shared by the training tests: the shipped digits split, and two cells.

use metanas_data::ImageDataset;
use metanas_data::shipped::mnist10k;

/// Every edge a 3×3 convolution.
pub const ALL_CONV3: &str = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|";
/// Every edge `none`: the output ignores the input.
#[allow(dead_code)] // Not every test binary uses it.
pub const ALL_NONE: &str = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|";

/// 8,000 training and 2,000 held-out digits, stratified.
pub fn mnist_split() -> (ImageDataset, ImageDataset) {
    let digits = mnist10k().expect("shipped MNIST");
    let mut parts = digits
        .stratified_split(&[0.8, 0.2], 7)
        .expect("split")
        .into_iter();
    let (Some(train), Some(held_out)) = (parts.next(), parts.next()) else {
        panic!("two parts");
    };
    (train, held_out)
}
