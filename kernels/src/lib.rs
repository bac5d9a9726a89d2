//! # zcnn-kernels
//!
//! The numerical kernels of zcnn: pure functions over flat `f32` slices, each operation with an
//! explicit forward and backward pass, a plain scalar reference (`*_ref`, the textbook loop) and
//! a fast path (SIMD through [`simd`], GEMM through [`gemm`], threads through `rayon`).
//! Kernels know nothing of layers or files and allocate nothing in their hot loops: the caller
//! passes output, gradient and scratch buffers. See `kernels/README.md` for the conventions.

pub mod activation;
pub mod batchnorm;
pub mod concat;
pub mod conv1d;
pub mod conv2d;
pub mod dense;
pub mod dropout;
pub mod epilogue;
pub mod gemm;
pub mod gradcheck;
pub mod loss;
pub mod optim;
pub mod parallel;
pub mod pool;
pub mod shape;
pub mod simd;

pub use shape::ShapeError;
