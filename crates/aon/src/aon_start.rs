//! The untrained AON that meta-training starts from, by name (`blend`,
//! `adam`), as `cargo xtask meta-train --aon-start` and `bench-aon --start`
//! take it.

use crate::AonConfig;
use std::fmt;
use std::str::FromStr;

/// The untrained AON that meta-training starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AonStart {
    /// Half of tuned Adam's rate plus half of tuned SGD-Nesterov's ([`AonConfig::blend`]).
    #[default]
    Blend,
    /// Tuned Adam alone.
    Adam,
}

impl AonStart {
    /// Every start, in the order the help text lists them.
    pub const ALL: [Self; 2] = [Self::Blend, Self::Adam];

    /// The AON's settings, given the tuned rates of the two optimizers.
    pub fn config(self, adam_rate: f64, sgd_nesterov_rate: f64) -> AonConfig {
        match self {
            Self::Blend => AonConfig::blend(adam_rate, sgd_nesterov_rate),
            Self::Adam => AonConfig::new().with_initial_step(adam_rate),
        }
    }

    /// The start's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Blend => "blend",
            Self::Adam => "adam",
        }
    }
}

impl fmt::Display for AonStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A start name that is not `blend` or `adam`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown AON start `{0}`: expected blend or adam")]
pub struct UnknownAonStart(pub String);

impl FromStr for AonStart {
    type Err = UnknownAonStart;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|start| start.name() == s)
            .ok_or_else(|| UnknownAonStart(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for start in AonStart::ALL {
            assert_eq!(start.name().parse::<AonStart>(), Ok(start));
        }
        assert_eq!(
            "sgd".parse::<AonStart>(),
            Err(UnknownAonStart("sgd".into()))
        );
    }
}
