//! Known-good NAS-Bench-201 cells that a search's winner is measured against,
//! trained with the same final recipe, budget and seed.

use crate::error::{Result, SearchError};
use metanas_space::SearchSpace;
use metanas_space::nb201::Nb201Space;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A reference cell of NAS-Bench-201.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceCell {
    /// The ResNet cell of NAS-Bench-201 (`ResNet_CODE` of its authors' code):
    /// two 3×3 convolutions in sequence plus a skip connection from the input.
    Resnet,
    /// The largest cell: a 3×3 convolution on every edge.
    Largest,
}

/// The names `--reference` accepts.
pub const REFERENCE_NAMES: &str = "resnet, largest";

impl ReferenceCell {
    /// Every reference cell.
    pub const ALL: [Self; 2] = [Self::Resnet, Self::Largest];

    /// The cell in the NAS-Bench-201 text form.
    pub fn architecture(&self) -> &'static str {
        match self {
            Self::Resnet => {
                "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"
            }
            Self::Largest => {
                "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
            }
        }
    }

    /// The name `--reference` takes.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Resnet => "resnet",
            Self::Largest => "largest",
        }
    }

    /// Parses a comma-separated list (`resnet,largest`), keeping the first of repeats.
    ///
    /// # Errors
    /// [`SearchError::InvalidConfig`] naming an unknown reference and the known ones.
    pub fn parse_list(list: &str) -> Result<Vec<Self>> {
        let mut cells = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let cell = name.parse()?;
            if !cells.contains(&cell) {
                cells.push(cell);
            }
        }
        Ok(cells)
    }

    /// Whether `architecture` (NAS-Bench-201 text form) is this cell: the same
    /// canonical form, so an isomorphic spelling counts as the same cell.
    ///
    /// # Errors
    /// [`SearchError::Space`] when `architecture` is not a NAS-Bench-201 cell.
    pub fn is(&self, architecture: &str) -> Result<bool> {
        let space = Nb201Space;
        let mine = space.parse(self.architecture())?;
        let other = space.parse(architecture)?;
        Ok(space.canonical_hash(&mine) == space.canonical_hash(&other))
    }
}

impl FromStr for ReferenceCell {
    type Err = SearchError;

    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|cell| cell.name() == s)
            .ok_or_else(|| {
                SearchError::InvalidConfig(format!(
                    "unknown reference `{s}`; expected one of: {REFERENCE_NAMES}"
                ))
            })
    }
}

impl fmt::Display for ReferenceCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_and_are_nb201_cells() {
        let cells = ReferenceCell::parse_list("resnet, largest,resnet").expect("known");
        assert_eq!(cells, vec![ReferenceCell::Resnet, ReferenceCell::Largest]);
        for cell in ReferenceCell::ALL {
            let arch = Nb201Space.parse(cell.architecture()).expect("a valid cell");
            assert_eq!(Nb201Space.format(&arch), cell.architecture());
        }
        let largest = ReferenceCell::Largest.architecture();
        assert_eq!(largest.matches("nor_conv_3x3").count(), 6);
        let err = ReferenceCell::parse_list("resnet,vgg").expect_err("unknown");
        assert!(err.to_string().contains("`vgg`") && err.to_string().contains("largest"));
        assert!(ReferenceCell::parse_list("").expect("empty").is_empty());
    }

    #[test]
    fn a_winner_is_recognised_as_a_reference_by_its_canonical_form() {
        let resnet = ReferenceCell::Resnet;
        assert!(resnet.is(resnet.architecture()).expect("valid"));
        assert!(
            !resnet
                .is(ReferenceCell::Largest.architecture())
                .expect("valid")
        );
        // With `none~2` the convolutions reach nothing: the cell is the identity,
        // whatever the dead edges hold, and not the ResNet cell.
        let identity = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|";
        let also_identity =
            "|avg_pool_3x3~0|+|none~0|nor_conv_1x1~1|+|skip_connect~0|none~1|none~2|";
        assert!(!resnet.is(identity).expect("valid"));
        let space = Nb201Space;
        let hash = |text: &str| space.canonical_hash(&space.parse(text).expect("valid"));
        assert_eq!(
            hash(identity),
            hash(also_identity),
            "dead edges do not count"
        );
        assert!(resnet.is("not a cell").is_err());
    }
}
