//! Talking to a live OpenBao: `plan` reads what the profile owns and compares it with the
//! rendered artifacts, `apply` writes the difference. Nothing here is used by `render`.

pub mod apply;
pub mod client;
pub mod plan;
