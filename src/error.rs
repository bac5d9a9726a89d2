//! The engine's error: a message that names what is wrong and where (the layer, the file, the
//! field, the expected and the found values). User input never panics; it returns this.

use std::fmt;

/// An error with a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

/// Shorthand for results of the engine.
pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<zcnn_kernels::ShapeError> for Error {
    fn from(e: zcnn_kernels::ShapeError) -> Self {
        Error(e.0)
    }
}

impl From<String> for Error {
    fn from(msg: String) -> Self {
        Error(msg)
    }
}

/// Returns early with an [`Error`] built from a format string when the condition is false.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err($crate::Error(format!($($msg)+)));
        }
    };
}
