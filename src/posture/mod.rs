//! Posture classification and findings: from tracked SAs to answers (spec §2-3, §6).

pub mod algos;
pub mod assess;
pub mod classify;
pub mod model;
pub mod rules;
pub mod tunnel;

pub use assess::{Assessment, Capabilities, Selected};
pub use classify::{classify, ParentView};
pub use model::{Evidence, Finding, Posture, SaState, Severity};
