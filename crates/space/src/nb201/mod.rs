//! NAS-Bench-201: the space, its cells and its operations.

mod cell;
mod operation;
mod space;
pub mod vocabulary;

pub use cell::Nb201Cell;
pub use operation::Nb201Operation;
pub use space::Nb201Space;
