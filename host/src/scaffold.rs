//! `bulkhead plugin new NAME --lang rust|python|js`: writes a buildable plugin project
//! with one tool, the WIT contract it builds against, and a README with the commands.
//!
//! Everything written comes from this binary (templates, the WIT files and, for Rust,
//! the plugin SDK's sources), so the project matches the host that made it and builds
//! with nothing but the language's own package registry.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// A project's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Cargo project on Bulkhead's Rust SDK, built with cargo for wasm32-wasip2.
    Rust,
    /// app.py, built with componentize-py.
    Python,
    /// app.js and package.json, built with jco componentize.
    Js,
}

/// Bulkhead's WIT package, file by file (a unit test keeps this list complete).
const WIT: &[(&str, &str)] = &[
    ("containers.wit", include_str!("../../wit/containers.wit")),
    ("context.wit", include_str!("../../wit/context.wit")),
    ("exec.wit", include_str!("../../wit/exec.wit")),
    ("files.wit", include_str!("../../wit/files.wit")),
    ("host.wit", include_str!("../../wit/host.wit")),
    ("images.wit", include_str!("../../wit/images.wit")),
    ("networks.wit", include_str!("../../wit/networks.wit")),
    ("plugin.wit", include_str!("../../wit/plugin.wit")),
    ("system.wit", include_str!("../../wit/system.wit")),
    ("types.wit", include_str!("../../wit/types.wit")),
    ("volumes.wit", include_str!("../../wit/volumes.wit")),
];

/// The Rust SDK's sources (a unit test keeps this list complete).
const SDK: &[(&str, &str)] = &[
    ("args.rs", include_str!("../../plugins/sdk/src/args.rs")),
    ("client.rs", include_str!("../../plugins/sdk/src/client.rs")),
    (
        "context.rs",
        include_str!("../../plugins/sdk/src/context.rs"),
    ),
    ("docker.rs", include_str!("../../plugins/sdk/src/docker.rs")),
    ("error.rs", include_str!("../../plugins/sdk/src/error.rs")),
    ("fake.rs", include_str!("../../plugins/sdk/src/fake.rs")),
    ("lib.rs", include_str!("../../plugins/sdk/src/lib.rs")),
    ("log.rs", include_str!("../../plugins/sdk/src/log.rs")),
    ("output.rs", include_str!("../../plugins/sdk/src/output.rs")),
    ("page.rs", include_str!("../../plugins/sdk/src/page.rs")),
    (
        "progress.rs",
        include_str!("../../plugins/sdk/src/progress.rs"),
    ),
    (
        "testing.rs",
        include_str!("../../plugins/sdk/src/testing.rs"),
    ),
    ("tool.rs", include_str!("../../plugins/sdk/src/tool.rs")),
    ("typed.rs", include_str!("../../plugins/sdk/src/typed.rs")),
];

/// One file of a project: where it goes, and its template.
type Template = (&'static str, &'static str);

const RUST: &[Template] = &[
    (
        "Cargo.toml",
        include_str!("../templates/plugin/rust/Cargo.toml"),
    ),
    (
        "src/lib.rs",
        include_str!("../templates/plugin/rust/lib.rs"),
    ),
    (
        "README.md",
        include_str!("../templates/plugin/rust/README.md"),
    ),
    (
        "vendor/bulkhead-plugin-sdk/Cargo.toml",
        include_str!("../templates/plugin/rust/sdk-Cargo.toml"),
    ),
    (".gitignore", "/target\n"),
];

const PYTHON: &[Template] = &[
    ("app.py", include_str!("../templates/plugin/python/app.py")),
    (
        "README.md",
        include_str!("../templates/plugin/python/README.md"),
    ),
    (
        "wit/world.wit",
        include_str!("../templates/plugin/common/world.wit"),
    ),
    (".gitignore", "/*.wasm\n__pycache__/\n"),
];

const JS: &[Template] = &[
    ("app.js", include_str!("../templates/plugin/js/app.js")),
    (
        "package.json",
        include_str!("../templates/plugin/js/package.json"),
    ),
    (
        "README.md",
        include_str!("../templates/plugin/js/README.md"),
    ),
    (
        "wit/world.wit",
        include_str!("../templates/plugin/common/world.wit"),
    ),
    (".gitignore", "/*.wasm\nnode_modules/\n"),
];

/// Plugin names a project may not take: the built-ins' (they would collide at load),
/// and `docker` (as `docker-…`), whose tool prefix is reserved for them.
const TAKEN: &[&str] = &["containers", "compose", "sandbox", "diagnostics", "docker"];

/// Writes project `name` in `language` into `parent/name`, which must not exist yet.
/// Answers the project's folder.
pub fn new_project(name: &str, language: Lang, parent: &Path) -> anyhow::Result<PathBuf> {
    check_name(name)?;
    let root = parent.join(name);
    if root.exists() {
        anyhow::bail!(
            "{} already exists; pick another name or folder",
            root.display()
        );
    }
    let files = files_of(name, language);
    for (path, text) in &files {
        let path = root.join(path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(root)
}

fn check_name(name: &str) -> anyhow::Result<()> {
    if !crate::runtime::manifest::valid_identifier(name, 32, '-') {
        anyhow::bail!(
            "`{name}` is not a plugin name: lowercase letters, digits and `-`, starting with a letter, at most 32 characters"
        );
    }
    if TAKEN.contains(&name) || name.starts_with("docker-") {
        anyhow::bail!("`{name}` is taken by Bulkhead's built-in plugins; pick another name");
    }
    Ok(())
}

/// Every file of the project, with its text.
fn files_of(name: &str, language: Lang) -> Vec<(String, String)> {
    let fill = |template: &str| {
        template
            .replace("{{name}}", name)
            .replace("{{prefix}}", &name.replace('-', "_"))
            .replace("{{crate}}", &name.replace('-', "_"))
            .replace("{{bulkhead_version}}", env!("CARGO_PKG_VERSION"))
    };
    let (templates, wit_dir) = match language {
        // The vendored SDK's bindings read `../../wit`: the project's own wit/ folder,
        // which is then Bulkhead's package itself.
        Lang::Rust => (RUST, "wit"),
        // componentize-py and jco read a world of the project's own (wit/world.wit)
        // that imports from Bulkhead's package, which sits in wit/deps/.
        Lang::Python => (PYTHON, "wit/deps/bulkhead-plugin"),
        Lang::Js => (JS, "wit/deps/bulkhead-plugin"),
    };
    let mut files: Vec<(String, String)> = templates
        .iter()
        .map(|(path, template)| (path.to_string(), fill(template)))
        .collect();
    files.extend(
        WIT.iter()
            .map(|(file, text)| (format!("{wit_dir}/{file}"), text.to_string())),
    );
    if language == Lang::Rust {
        files.extend(SDK.iter().map(|(file, text)| {
            (
                format!("vendor/bulkhead-plugin-sdk/src/{file}"),
                text.to_string(),
            )
        }));
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names of the files in `dir` (relative to the workspace) ending in `ext`.
    fn files_in(dir: &str, ext: &str) -> Vec<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(ext))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn every_wit_file_and_sdk_source_is_embedded() {
        let embedded = |list: &[(&str, &str)]| -> Vec<String> {
            list.iter().map(|(name, _)| name.to_string()).collect()
        };
        assert_eq!(embedded(WIT), files_in("wit", ".wit"));
        assert_eq!(embedded(SDK), files_in("plugins/sdk/src", ".rs"));
    }

    #[test]
    fn the_vendored_sdk_reads_the_projects_wit_folder() {
        let lib = SDK.iter().find(|(name, _)| *name == "lib.rs").unwrap().1;
        assert!(lib.contains(r#"path: "../../wit""#));
    }

    #[test]
    fn templates_are_filled_everywhere() {
        for language in [Lang::Rust, Lang::Python, Lang::Js] {
            for (path, text) in files_of("my-tool", language) {
                for placeholder in [
                    "{{name}}",
                    "{{prefix}}",
                    "{{crate}}",
                    "{{bulkhead_version}}",
                ] {
                    assert!(
                        !text.contains(placeholder),
                        "{language:?} {path} keeps {placeholder}"
                    );
                }
            }
            let files = files_of("my-tool", language);
            let main = files
                .iter()
                .find(|(path, _)| ["src/lib.rs", "app.py", "app.js"].contains(&path.as_str()))
                .unwrap();
            assert!(main.1.contains("my_tool_greet"), "{language:?}");
            assert!(main.1.contains("\"my-tool\"") || main.1.contains("'my-tool'"));
        }
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("my-tool").is_ok());
        for bad in [
            "",
            "My",
            "1tool",
            "a_b",
            "containers",
            "docker",
            "docker-x",
            &"x".repeat(33),
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_existing_folder_is_left_alone() {
        let parent = tempfile::tempdir().unwrap();
        std::fs::create_dir(parent.path().join("mine")).unwrap();
        std::fs::write(parent.path().join("mine/keep"), "x").unwrap();
        assert!(new_project("mine", Lang::Python, parent.path()).is_err());
        assert_eq!(
            std::fs::read_to_string(parent.path().join("mine/keep")).unwrap(),
            "x"
        );
        let root = new_project("fresh", Lang::Js, parent.path()).unwrap();
        assert!(root.join("wit/deps/bulkhead-plugin/plugin.wit").is_file());
        assert!(root.join("wit/world.wit").is_file());
    }
}
