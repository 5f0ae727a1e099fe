//! Where a stack comes from: YAML text, or a file under a directory the operator let this
//! plugin read (`--compose-dir`, preopened read-only at the same path). The sandbox holds
//! no other directory, so `..` tricks and symlinks out of it fail by construction; the
//! checks here only make the answer clearer.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::spec::{self, LoadRequest, Project, SpecError, SpecErrorKind};
use bulkhead_plugin_sdk::{ErrorCode, ToolError};

/// Largest compose file read.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Declares a tool's argument struct: the fields that say which stack, from where and
/// with what variables, then the tool's own fields. (Written out rather than
/// `#[serde(flatten)]`, which cannot be combined with `deny_unknown_fields`.)
#[macro_export]
macro_rules! stack_args {
    ($(#[$meta:meta])* pub struct $name:ident { $($extra:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// Project name (Docker's rule: lowercase letters, digits, `_`, `-`; starts
            /// with a letter or digit). Default: the file's `name:`, else the name of the
            /// file's directory.
            #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9_-]{0,62}$"))]
            pub project: Option<String>,
            /// The Compose file as YAML text (at most 1 MiB). Give this or `file`.
            #[schemars(length(max = 1_048_576))]
            pub yaml: Option<String>,
            /// Absolute path of a Compose file under a directory the operator allowed
            /// with `--compose-dir`; its `.env` and relative paths resolve against its
            /// directory.
            #[schemars(length(min = 1, max = 4096))]
            pub file: Option<String>,
            /// With `yaml`: the directory (under an allowed compose directory) that
            /// relative paths, `env_file` and `.env` resolve against.
            #[schemars(length(min = 1, max = 4096))]
            pub project_dir: Option<String>,
            /// Variables for `${VAR}` interpolation; they win over the project's `.env`.
            /// The server's own environment is never used.
            #[serde(default)]
            pub env: std::collections::BTreeMap<String, String>,
            /// Profiles to enable: services listing `profiles` run only when one of
            /// theirs is enabled.
            #[serde(default)]
            #[schemars(length(max = 32))]
            pub profiles: Vec<String>,
            $($extra)*
        }

        impl $name {
            /// The fields that name the stack.
            pub fn stack(&self) -> $crate::source::StackInput<'_> {
                $crate::source::StackInput {
                    project: self.project.as_deref(),
                    yaml: self.yaml.as_deref(),
                    file: self.file.as_deref(),
                    project_dir: self.project_dir.as_deref(),
                    env: &self.env,
                    profiles: &self.profiles,
                }
            }
        }
    };
}

/// Which stack, from where, with what variables (see [`stack_args!`]).
#[derive(Debug, Clone, Copy)]
pub struct StackInput<'a> {
    pub project: Option<&'a str>,
    pub yaml: Option<&'a str>,
    pub file: Option<&'a str>,
    pub project_dir: Option<&'a str>,
    pub env: &'a BTreeMap<String, String>,
    pub profiles: &'a [String],
}

/// A loaded stack and where it came from.
#[derive(Debug, Clone)]
pub struct Stack {
    pub project: Project,
    /// The directory relative paths resolved against, when there is one.
    pub dir: Option<PathBuf>,
    /// The file read, when the stack came from one.
    pub file: Option<PathBuf>,
}

/// Reads and loads the stack `args` describe.
pub fn load(args: StackInput<'_>) -> Result<Stack, ToolError> {
    let (text, file, dir) = match (args.yaml, args.file) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(ToolError::invalid_argument(
                "give exactly one of `yaml` (the Compose text) and `file` (a path)",
            ));
        }
        (Some(yaml), None) => {
            let dir = args.project_dir.map(checked_path).transpose()?;
            (yaml.to_string(), None, dir)
        }
        (None, Some(file)) => {
            if args.project_dir.is_some() {
                return Err(ToolError::invalid_argument(
                    "`project_dir` goes with `yaml`; a file's own directory is its project directory",
                ));
            }
            let path = checked_path(file)?;
            let text = read_file(&path)?;
            let dir = path.parent().map(Path::to_path_buf);
            (text, Some(path), dir)
        }
    };
    let request = LoadRequest {
        yaml: &text,
        project_name: args.project,
        project_dir: dir.as_deref(),
        env: args.env,
        profiles: args.profiles,
    };
    let project = spec::load(&request).map_err(spec_error)?;
    Ok(Stack { project, dir, file })
}

/// An absolute path without `..`: the only paths a compose directory can be named by.
fn checked_path(text: &str) -> Result<PathBuf, ToolError> {
    let path = Path::new(text);
    if !path.is_absolute() {
        return Err(ToolError::invalid_argument(format!(
            "`{}` is not an absolute path",
            shown(text)
        )));
    }
    if path.components().any(|c| c == Component::ParentDir) {
        return Err(ToolError::new(
            ErrorCode::PermissionDenied,
            format!(
                "`{}` contains `..`; name files by their real path",
                shown(text)
            ),
        ));
    }
    Ok(path.to_path_buf())
}

fn read_file(path: &Path) -> Result<String, ToolError> {
    let file = std::fs::File::open(path).map_err(|err| io_error(path, &err))?;
    let mut text = String::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|err| io_error(path, &err))?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(ToolError::invalid_argument(format!(
            "`{}` is larger than {MAX_FILE_BYTES} bytes",
            path.display()
        )));
    }
    Ok(text)
}

/// An I/O failure, worded the same for a missing file and one outside the allowed
/// directories (the sandbox cannot tell them apart, and a caller should not either).
pub fn io_error(path: &Path, err: &std::io::Error) -> ToolError {
    let shown = shown(&path.display().to_string());
    match err.kind() {
        std::io::ErrorKind::NotFound => ToolError::new(
            ErrorCode::NotFound,
            format!("cannot read `{shown}`: no such file under the directories this plugin may read"),
        )
        .with_hint("compose files must lie under a directory the operator allowed with --compose-dir; or pass the YAML text as `yaml`"),
        std::io::ErrorKind::PermissionDenied => ToolError::new(
            ErrorCode::PermissionDenied,
            format!("cannot read `{shown}`: it leads outside the directories this plugin may read"),
        )
        .with_hint("symlinks and paths out of a --compose-dir directory are refused"),
        _ => ToolError::invalid_argument(format!("cannot read `{shown}`: {}", err.kind())),
    }
}

/// A loader error as a tool error with the matching code.
pub fn spec_error(err: SpecError) -> ToolError {
    let code = match err.kind {
        SpecErrorKind::Denied => ErrorCode::PermissionDenied,
        SpecErrorKind::Io => ErrorCode::NotFound,
        SpecErrorKind::Invalid | SpecErrorKind::TooLarge => ErrorCode::InvalidArgument,
    };
    let hint = match err.kind {
        SpecErrorKind::Denied => {
            "the host refuses this for every container, whoever asks; remove the key"
        }
        SpecErrorKind::Io => {
            "files a stack names must lie under a directory the operator allowed with --compose-dir"
        }
        SpecErrorKind::TooLarge => "the file is too large or too deeply nested to be a stack",
        SpecErrorKind::Invalid => {
            "fix the key named in the message; the README lists what the compose plugin supports"
        }
    };
    ToolError::new(code, err.to_string()).with_hint(hint)
}

/// A path or name shortened to one line for a message.
pub fn shown(text: &str) -> String {
    let line: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    line.replace('`', "'")
}
