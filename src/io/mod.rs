//! Files: atomic writes (always), and with the `cli` feature safetensors checkpoints and NPY
//! arrays.

pub mod atomic;
#[cfg(feature = "cli")]
pub mod checkpoint;
#[cfg(feature = "cli")]
pub mod npy;

pub use atomic::write_atomic;
