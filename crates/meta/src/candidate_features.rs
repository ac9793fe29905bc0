//! What an architecture-conditioned choice of the AON's settings reads of a
//! candidate before training it: the meta-model AEN's embedding of its cell
//! (the mean over the ensemble of the graph features its heads read), its
//! size, and the task's plain statistics.

use crate::error::{MetaError, Result};
use burn::tensor::Tensor;
use metanas_aen::MetaAen;
use metanas_aon::SettingsTableRow;
use metanas_space::SearchSpace;
use metanas_space::nb201::{Nb201Cell, Nb201Operation, Nb201Space};

/// A candidate network on a task, as known before it is trained.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateDescription {
    /// The cell.
    pub cell: Nb201Cell,
    /// First-stage channels `C`.
    pub channels: usize,
    /// Cells per stage `N`.
    pub cells_per_stage: usize,
    /// Classes of the task.
    pub classes: usize,
    /// Training images of the task.
    pub train_images: usize,
    /// Image channels, height and width.
    pub image_shape: [usize; 3],
}

impl CandidateDescription {
    /// The candidate of a row of the AON's settings table.
    ///
    /// # Errors
    /// [`MetaError::InvalidConfig`] naming the pair when its cell or image
    /// shape does not parse.
    pub fn of_table_row(row: &SettingsTableRow) -> Result<Self> {
        let bad = |what: String| {
            MetaError::InvalidConfig(format!("settings table, pair {}: {what}", row.pair))
        };
        let cell = Nb201Space
            .parse(&row.cell)
            .map_err(|e| bad(format!("cell `{}`: {e}", row.cell)))?;
        let dims: Vec<usize> = row
            .image_shape
            .split('x')
            .map(str::parse)
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| bad(format!("image shape `{}` is not CxHxW", row.image_shape)))?;
        let [c, h, w] = dims[..] else {
            return Err(bad(format!(
                "image shape `{}` is not CxHxW",
                row.image_shape
            )));
        };
        Ok(Self {
            cell,
            channels: row.channels,
            cells_per_stage: row.cells_per_stage,
            classes: row.classes.split_whitespace().count(),
            train_images: row.train_images,
            image_shape: [c, h, w],
        })
    }
}

/// Features that do not need the AEN: `ln C`, `N`, `ln classes`,
/// `ln training images`, image channels, `ln(H·W)`, then how many of the six
/// edges carry each operation.
pub const PLAIN_FEATURES: usize = 6 + Nb201Operation::ALL.len();

fn plain_features(candidate: &CandidateDescription) -> Vec<f64> {
    let ln = |x: usize| (x.max(1) as f64).ln();
    let [c, h, w] = candidate.image_shape;
    let mut features = vec![
        ln(candidate.channels),
        candidate.cells_per_stage as f64,
        ln(candidate.classes),
        ln(candidate.train_images),
        c as f64,
        ln(h * w),
    ];
    let ops = candidate.cell.ops();
    features.extend(
        Nb201Operation::ALL
            .iter()
            .map(|op| ops.iter().filter(|o| *o == op).count() as f64),
    );
    features
}

/// The features of each candidate: [`PLAIN_FEATURES`] plain ones, then the
/// AEN's embedding of its cell when `aen` is given.
///
/// # Errors
/// The AEN's errors when encoding the cells.
pub fn candidate_features(
    aen: Option<&MetaAen>,
    candidates: &[CandidateDescription],
) -> Result<Vec<Vec<f64>>> {
    let mut features: Vec<Vec<f64>> = candidates.iter().map(plain_features).collect();
    let Some(aen) = aen else {
        return Ok(features);
    };
    if candidates.is_empty() {
        return Ok(features);
    }
    let encodings: Vec<_> = candidates
        .iter()
        .map(|c| Nb201Space.encode(&c.cell))
        .collect();
    let batch = aen.encode(&encodings)?;
    let cache = aen.features(&batch);
    let members: Vec<(Vec<f32>, usize)> = cache
        .features
        .iter()
        .map(|t: &Tensor<2>| {
            let width = t.dims()[1];
            let values = t
                .clone()
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .unwrap_or_default();
            (values, width)
        })
        .collect();
    let Some(&(_, width)) = members.first() else {
        return Ok(features);
    };
    for (i, row) in features.iter_mut().enumerate() {
        for j in 0..width {
            let total: f64 = members
                .iter()
                .map(|(values, w)| values.get(i * w + j).copied().map_or(0.0, f64::from))
                .sum();
            row.push(total / members.len() as f64);
        }
    }
    Ok(features)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_features_count_operations_and_log_sizes() {
        let cell = Nb201Space
            .parse("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|")
            .expect("a cell");
        let candidate = CandidateDescription {
            cell,
            channels: 8,
            cells_per_stage: 1,
            classes: 5,
            train_images: 500,
            image_shape: [1, 28, 28],
        };
        let features = candidate_features(None, &[candidate]).expect("features");
        assert_eq!(features[0].len(), PLAIN_FEATURES);
        assert!((features[0][0] - 8f64.ln()).abs() < 1e-12);
        assert!((features[0][5] - 784f64.ln()).abs() < 1e-12);
        let count = |op: Nb201Operation| {
            let k = Nb201Operation::ALL
                .iter()
                .position(|o| *o == op)
                .expect("an op");
            features[0][6 + k]
        };
        assert_eq!(count(Nb201Operation::Conv3x3), 2.0);
        assert_eq!(count(Nb201Operation::None), 3.0);
        assert_eq!(count(Nb201Operation::SkipConnect), 1.0);
        assert!(candidate_features(None, &[]).expect("none").is_empty());
    }
}
