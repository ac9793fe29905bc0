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
//!   Padding rows and columns are zero. See *Measured decisions* for why the default.
//! * **Task conditioning**: the task embedding is the task's linear head
//!   `(w_t, b_t)` on the shared graph features. During meta-training every
//!   source task has a learned head; on a new task the head is *inferred* from
//!   its observed (cell, metric) pairs by Bayesian linear regression whose prior
//!   covariance is the second moment of the source heads ([`PriorKind`],
//!   ABLR-style, closed form, [`fit_head`]).
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
//! ## Measured decisions
//!
//! MEASURED

mod aen;
mod bayesian_head;
mod encoded_batch;
mod error;
mod fit;
mod linalg;
mod meta_aen;
mod predictor;
mod propagation;
pub mod ranking_metrics;
mod training;

pub use aen::{Aen, AenConfig, GcnLayer};
pub use bayesian_head::{HeadPrior, LinearHead, PriorKind, fit_head};
pub use encoded_batch::{EncodedBatch, check_encodings};
pub use error::{AenError, Result};
pub use fit::{FitConfig, fit};
pub use meta_aen::{MetaAen, MetaAenConfig, TaskValues};
pub use predictor::{AenPredictor, FeatureCache, Prediction, Standardiser};
pub use propagation::Propagation;
pub use ranking_metrics::{kendall_tau, precision_at_k, spearman_rho};
pub use training::{TrainingConfig, TrainingReport, regression_ranking_loss};
