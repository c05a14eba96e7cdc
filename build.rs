//! Compiles the GResource bundle, the GSettings schema and the translations
//! (`po/*.po` → `locale/<lang>/LC_MESSAGES/tcp-chat.mo`) into `OUT_DIR`, so
//! `cargo run` and the tests work straight from the build tree.

use std::path::{Path, PathBuf};
use std::process::Command;

const APP_ID: &str = "io.github.tcpchat.TcpChat";

fn main() {
    glib_build_tools::compile_resources(
        &["resources", "data"],
        "resources/resources.gresource.xml",
        "tcp-chat.gresource",
    );
    compile_schema();
    compile_translations();
}

/// Each language of `po/LINGUAS` through `msgfmt --check`, as `make install`
/// will install it.
fn compile_translations() {
    println!("cargo:rerun-if-changed=po/LINGUAS");
    let linguas = std::fs::read_to_string("po/LINGUAS")
        .unwrap_or_else(|err| panic!("cannot read po/LINGUAS: {err}"));
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let languages = linguas
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default())
        .flat_map(str::split_whitespace);
    for lang in languages {
        let po = PathBuf::from(format!("po/{lang}.po"));
        println!("cargo:rerun-if-changed={}", po.display());
        let dir = out_dir.join("locale").join(lang).join("LC_MESSAGES");
        if let Err(err) = std::fs::create_dir_all(&dir) {
            panic!("cannot create {}: {err}", dir.display());
        }
        let status = Command::new("msgfmt")
            .arg("--check")
            .arg("-o")
            .arg(dir.join("tcp-chat.mo"))
            .arg(&po)
            .status();
        match status {
            Ok(status) if status.success() => {}
            Ok(status) => panic!("msgfmt failed on {} ({status})", po.display()),
            Err(err) => panic!("cannot run msgfmt (install Debian's gettext package): {err}"),
        }
    }
}

/// `glib-compile-schemas` reads a whole directory, so the one schema is
/// copied into its own directory under `OUT_DIR` first.
fn compile_schema() {
    let source = PathBuf::from(format!("data/{APP_ID}.gschema.xml"));
    println!("cargo:rerun-if-changed={}", source.display());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let schema_dir = out_dir.join("schemas");
    if let Err(err) = std::fs::create_dir_all(&schema_dir)
        .and_then(|()| std::fs::copy(&source, schema_dir.join(file_name(&source))))
    {
        panic!(
            "cannot copy {} into {}: {err}",
            source.display(),
            schema_dir.display()
        );
    }
    let status = Command::new("glib-compile-schemas")
        .arg("--strict")
        .arg(&schema_dir)
        .status();
    match status {
        Ok(status) if status.success() => {}
        Ok(status) => panic!("glib-compile-schemas failed ({status})"),
        Err(err) => panic!("cannot run glib-compile-schemas (install libglib2.0-bin): {err}"),
    }
}

fn file_name(path: &Path) -> &std::ffi::OsStr {
    path.file_name().unwrap_or_default()
}
