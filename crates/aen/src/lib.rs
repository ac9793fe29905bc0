//! # metanas-aen
//!
//! The **Architecture Evaluation Network**: a graph convolutional network that
//! predicts a metric of a cell (accuracy, latency, cost) on a task, says how
//! sure it is, and adapts to a new task from a few observations.
//!
//! * [`AenConfig`]/[`Aen`]: operation embedding → K graph convolutions
//!   `h_v = relu(Σ_u Â[v,u] W h_u)` → mean pooling over real (unmasked) nodes
//!   → fully connected feature layer → one linear head per task.
//!   Batched over padded graphs ([`EncodedBatch`], built once per set of cells).
//! * **Edges and self-loops** ([`Propagation`]): `Symmetric` (default) uses
//!   `Â = D^{-1/2}(A + Aᵀ + I)D^{-1/2}`: messages go both ways along an edge
//!   and every real node keeps its own state; `Directed` (BRP-NAS) uses a
//!   forward and a backward operator, each with self-loops and its own weights.
//!   Padding rows and columns are zero. Symmetric is the default: as good, half the matmuls.
//! * **Task conditioning**: the task embedding is the task's linear head
//!   `(w_t, b_t)` on the shared graph features. During meta-training every
//!   source task has a learned head; on a new task the head is *inferred* from
//!   its observed (cell, metric) pairs by Bayesian linear regression whose prior
//!   covariance is the second moment of the source heads ([`PriorKind`],
//!   ABLR-style, closed form, [`fit_head`]).
//! * **Source values as side features** ([`SideModel`]): where the source
//!   tasks' metrics of every cell are known (a benchmark table), the heads
//!   also read them, as normal scores ([`normal_scores`], a Gaussian copula).
//!   By default [`MetaAen::adapt_features`] averages single-source models
//!   `y ≈ a·s_t + b` by their evidence ([`fit_head_with_evidence`]), with a
//!   prior on `a` learned from how the source tasks relate to one another
//!   ([`SourceSlopePrior`]); the observed values are modelled standardised or
//!   warped to normal scores ([`OutputWarp`]), whichever explains them better
//!   (evidence plus log-Jacobian). The predictor is a weighted mixture of
//!   heads ([`WeightedHead`]).
//! * **Uncertainty**: an ensemble of bodies (different seeds) × a Bayesian head
//!   each; [`Prediction`] is the mixture's mean and std.
//! * **Learning**: per-task standardised targets, loss = MSE + λ·pairwise
//!   logistic ranking loss ([`regression_ranking_loss`]), Adam, early stopping on
//!   a validation split, seeded ([`TrainingConfig`]). [`fit`] fits from scratch;
//!   [`MetaAen::meta_train`] fits shared bodies on all source tasks jointly
//!   (the meta-learned initialisation: body + head prior) and
//!   [`MetaAen::adapt`] gives a task-specific [`AenPredictor`] in closed form.
//! * Save/load: [`AenPredictor::save`]/[`MetaAen::save`] write Burn records
//!   (`member_<i>.bpk`) and JSON (`predictor.json` / `config.json`).
//! * Ranking metrics: [`kendall_tau`] (τ-b), [`spearman_rho`], [`precision_at_k`].
//! * Nothing here names a backend: everything takes a Burn `Device`.
//!   Errors are one [`AenError`].
//!
//! ```no_run
//! use metanas_aen::{AenConfig, MetaAen, MetaAenConfig, TaskValues};
//! use metanas_space::{SearchSpace, nb201::Nb201Space};
//! # fn main() -> metanas_aen::Result<()> {
//! # let device: burn::tensor::Device = unimplemented!();
//! # let (c10, in16, c100): (Vec<f64>, Vec<f64>, Vec<f64>) = unimplemented!();
//! let space = Nb201Space;
//! let cells: Vec<_> = space.enumerate().expect("finite").map(|a| space.encode(&a)).collect();
//! let tasks = vec![
//!     TaskValues { name: "c10v_valid".into(), values: c10 },
//!     TaskValues { name: "in16_valid".into(), values: in16 },
//! ];
//! let meta = MetaAen::meta_train(&cells, &tasks, &MetaAenConfig::new(AenConfig::new(space.vocabulary_size())), &device)?;
//! let observed: Vec<_> = (0..20).map(|i| (cells[i].clone(), c100[i])).collect();
//! let predictor = meta.adapt(&observed)?;
//! let scores = predictor.predict(&cells)?; // mean and std per cell
//! # Ok(()) }
//! ```
//!
//! ## Design decisions
//!
//! * Adaptation never changes the bodies, so a search computes
//!   [`MetaAen::features`] once and scores each new head with
//!   [`AenPredictor::predict_features`].
//! * The measurements behind the defaults (symmetric propagation, the model
//!   average of single-source heads over normal scores, the exact-source-head
//!   prior, scoring from cached features) are in the repository's
//!   `docs/decisions/` (0001–0004); the benchmark's figures, with their
//!   command (`cargo xtask bench-aen`), are in `docs/BENCHMARKS.md`.

mod aen;
mod bayesian_head;
mod encoded_batch;
mod error;
mod fit;
mod linalg;
mod meta_aen;
mod normal_scores;
mod output_warp;
mod predictor;
mod propagation;
pub mod ranking_metrics;
mod side_model;
mod training;
mod weighted_head;

pub use aen::{Aen, AenConfig};
pub use bayesian_head::PriorKind;
pub use encoded_batch::EncodedBatch;
pub use error::{AenError, Result};
pub use fit::{FitConfig, fit};
pub use meta_aen::{MetaAen, MetaAenConfig, TaskValues};
pub use normal_scores::normal_scores;
pub use output_warp::OutputWarp;
pub use predictor::{AenPredictor, FeatureCache, Prediction, Standardiser};
pub use propagation::Propagation;
pub use ranking_metrics::{kendall_tau, precision_at_k, spearman_rho};
pub use side_model::{SideModel, SourceSlopePrior};
pub use training::{TrainingConfig, TrainingReport};
pub use weighted_head::WeightedHead;

// Building blocks of the predictors above, public for the benchmark harnesses
// and tests that measure them one by one; not part of the crate's interface.
#[doc(hidden)]
pub use aen::GcnLayer;
#[doc(hidden)]
pub use bayesian_head::{HeadFit, HeadPrior, LinearHead, fit_head, fit_head_with_evidence};
#[doc(hidden)]
pub use encoded_batch::check_encodings;
#[doc(hidden)]
pub use training::regression_ranking_loss;
