//! The `nexo` binary as an operator uses it: the schema contract, tenant commands,
//! migrations and production safety. Runs on SQLite, and on a fresh PostgreSQL database
//! when `NEXO_TEST_DATABASE_URL` is set.

use std::process::{Command, Output};

use sea_orm::{ConnectionTrait, Database};

/// A data directory and, on PostgreSQL, a database of this test's own (so that `migrate`
/// sees only this test's tenants), dropped at the end.
struct Env {
    dir: tempfile::TempDir,
    database: Option<(String, String)>,
}

impl Env {
    async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let database = match std::env::var("NEXO_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            None => None,
            Some(url) => {
                let name = format!("nexo_cli_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(&url).await.expect("PostgreSQL reachable");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create database");
                let (base, _) = url.rsplit_once('/').expect("database URL with a path");
                Some((url.clone(), format!("{base}/{name}")))
            }
        };
        Self { dir, database }
    }

    fn nexo(&self, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_nexo"));
        command
            .args(args)
            .env_remove("NEXO_DATABASE_URL")
            .env_remove("NEXO_ENV")
            .env_remove("NEXO_JWT_SECRET")
            .env("NEXO_DATA_DIR", self.dir.path())
            .current_dir(self.dir.path());
        if let Some((_, url)) = &self.database {
            command.env("NEXO_DATABASE_URL", url);
        }
        command.output().expect("nexo runs")
    }

    fn ok(&self, args: &[&str]) -> String {
        let output = self.nexo(args);
        assert!(
            output.status.success(),
            "nexo {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("utf-8 output")
    }

    async fn drop_database(self) {
        if let Some((admin_url, url)) = &self.database {
            let name = url.rsplit('/').next().unwrap_or_default().to_owned();
            let admin = Database::connect(admin_url)
                .await
                .expect("PostgreSQL reachable");
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .expect("drop database");
        }
    }
}

fn checked_in(file: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

#[test]
fn checked_in_schemas_match_the_code() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (args, file) in [
        (vec!["schema"], "schema.graphql"),
        (vec!["schema", "--admin"], "admin.graphql"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_nexo"))
            .args(&args)
            .current_dir(dir.path())
            .output()
            .expect("nexo runs");
        assert!(output.status.success());
        let generated = String::from_utf8(output.stdout).expect("utf-8 SDL");
        assert!(
            generated == checked_in(file),
            "{file} is out of date with the code. The API changed: regenerate it with\n\
             `cargo run -p api --bin nexo -- {}  > {file}` and review the diff: it is the partner contract.",
            args.join(" ")
        );
    }
}

#[tokio::test]
async fn tenant_lifecycle_from_the_command_line() {
    let env = Env::new().await;
    let slug = format!("cli{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let created = env.ok(&[
        "tenant",
        "create",
        &slug,
        "--name",
        "Cli Company",
        "--owner-email",
        "Owner@Cli.Example",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_str(created.trim()).expect("JSON output");
    assert_eq!(json["slug"], slug.as_str());
    assert_eq!(json["ownerEmail"], "owner@cli.example");
    assert!(
        json["ownerSetupToken"]
            .as_str()
            .is_some_and(|t| t.len() >= 40)
    );

    let duplicate = env.nexo(&[
        "tenant",
        "create",
        &slug,
        "--name",
        "Again",
        "--owner-email",
        "x@y.example",
    ]);
    assert!(!duplicate.status.success());
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("CONFLICT"));
    let bad = env.nexo(&[
        "tenant",
        "create",
        "Bad_Slug",
        "--name",
        "Bad",
        "--owner-email",
        "x@y.example",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("BAD_USER_INPUT"));

    let listed: serde_json::Value =
        serde_json::from_str(env.ok(&["tenant", "list", "--json"]).trim()).expect("JSON list");
    let rows = listed.as_array().expect("array");
    assert_eq!(rows.len(), 1, "{listed:#}");
    assert_eq!(rows[0]["status"], "active");

    env.ok(&["tenant", "suspend", &slug]);
    assert!(env.ok(&["tenant", "list"]).contains("suspended"));
    env.ok(&["tenant", "resume", &slug]);
    assert!(env.ok(&["tenant", "list"]).contains("active"));

    let first = env.ok(&["migrate"]);
    let second = env.ok(&["migrate"]);
    assert!(first.contains("1 tenant(s)"), "{first}");
    assert!(
        second.contains("0 migration(s) applied; 1 tenant(s), 0 tenant migration(s) applied"),
        "{second}"
    );

    let deleted = env.ok(&["tenant", "delete", &slug]);
    let backup = deleted.trim().rsplit(' ').next().expect("backup path");
    assert!(std::path::Path::new(backup).exists(), "{deleted}");
    assert_eq!(env.ok(&["tenant", "list", "--json"]).trim(), "[]");
    let missing = env.nexo(&["tenant", "delete", &slug]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("NOT_FOUND"));

    let admin = env.ok(&["admin", "create", "ops@platform.example"]);
    assert!(admin.contains("setup token"), "{admin}");
    env.drop_database().await;
}

#[test]
fn production_refuses_to_start_without_a_secret() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let output = Command::new(env!("CARGO_BIN_EXE_nexo"))
        .args(["serve"])
        .env_remove("NEXO_JWT_SECRET")
        .env_remove("NEXO_DATABASE_URL")
        .env("NEXO_ENV", "production")
        .env("NEXO_DATA_DIR", dir.path())
        .env("NEXO_LISTEN", "127.0.0.1:0")
        .output()
        .expect("nexo runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("NEXO_JWT_SECRET is required"));
    assert!(
        !dir.path().join("jwt-secret").exists(),
        "no key may be generated in production"
    );
}

#[test]
fn a_bad_planner_setting_stops_the_server_with_its_name() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let output = Command::new(env!("CARGO_BIN_EXE_nexo"))
        .args(["serve"])
        .env_remove("NEXO_DATABASE_URL")
        .env("NEXO_PG_RANDOM_PAGE_COST", "fast")
        .env("NEXO_DATA_DIR", dir.path())
        .env("NEXO_LISTEN", "127.0.0.1:0")
        .output()
        .expect("nexo runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("NEXO_PG_RANDOM_PAGE_COST=\"fast\""),
        "{stderr}"
    );
}

#[test]
fn development_keeps_its_generated_secret() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let first = api::auth::load_or_create_dev_secret(dir.path()).expect("secret");
    let second = api::auth::load_or_create_dev_secret(dir.path()).expect("secret");
    assert_eq!(first, second);
    assert!(first.len() >= 32);
}
