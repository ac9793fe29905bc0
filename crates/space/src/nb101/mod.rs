//! NAS-Bench-101: the space, its cells and its operations.

mod cell;
mod operation;
mod space;
pub mod vocabulary;

pub use cell::{Nb101Cell, Nb101Spec};
pub use operation::Nb101Operation;
pub use space::Nb101Space;
