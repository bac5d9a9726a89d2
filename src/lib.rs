pub mod metrics;
pub mod redshift;
pub mod report;
