//! (launch: mine)
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("{message}")]
    Exec { code: i32, message: String },
}
