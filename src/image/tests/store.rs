//! Looking up, listing and removing images (what the verbs on top print:
//! `commands::tests`).

use super::{Env, Tar};
use crate::image::{ImageError, Removed};
use std::fs;

fn image(env: &Env, content: &[u8], reference: &str) -> String {
    env.import(Tar::new().file("f", content).bytes(), reference)
        .unwrap()
        .image
        .id
}

/// Two images whose ids share a first hex digit, found by trying contents (an image
/// that does not is removed again).
fn two_with_common_prefix(env: &Env) -> (String, String) {
    let first = image(env, b"0", "first");
    for i in 1.. {
        let id = image(env, i.to_string().as_bytes(), "second");
        if id[..1] == first[..1] {
            return (first, id);
        }
        env.store.remove("second").unwrap();
    }
    unreachable!()
}

#[test]
fn resolve_by_name_tag_id_and_prefix() {
    let env = Env::new();
    let id = image(&env, b"a", "web:1.0");
    for reference in [
        "web:1.0",
        id.as_str(),
        &format!("sha256:{id}"),
        &id[..12],
        &id[..3],
    ] {
        assert_eq!(env.store.resolve(reference).unwrap().id, id, "{reference}");
    }
    assert!(
        matches!(env.store.resolve("web"), Err(ImageError::Unknown(_))),
        "web means web:latest"
    );
    let err = env.store.resolve("foo").unwrap_err();
    assert_eq!(err.to_string(), "unknown image \"foo\"");
    let lower = env.store.lower_dirs(&env.store.resolve("web:1.0").unwrap());
    assert_eq!(
        lower,
        [env.store
            .paths
            .layers()
            .join(&env.store.resolve(&id).unwrap().layers[0])]
    );
}

#[test]
fn an_ambiguous_prefix_lists_the_candidates() {
    let env = Env::new();
    let (a, b) = two_with_common_prefix(&env);
    let err = env.store.resolve(&a[..1]).unwrap_err();
    let ImageError::Ambiguous { matches, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(matches.len(), 2);
    assert!(
        err.to_string().contains(&a[..12]) && err.to_string().contains(&b[..12]),
        "{err}"
    );
}

#[test]
fn a_name_wins_over_an_id_prefix() {
    let env = Env::new();
    let id = image(&env, b"a", "x");
    let other = image(&env, b"b", &id[..6]);
    assert_eq!(env.store.resolve(&id[..6]).unwrap().id, other);
    assert_eq!(env.store.resolve(&id[..7]).unwrap().id, id);
}

#[test]
fn rmi_untags_first_and_deletes_with_the_last_tag() {
    let env = Env::new();
    let id = image(&env, b"a", "app:1");
    image(&env, b"a", "app:2");
    let layer = env.store.resolve(&id).unwrap().layers[0].clone();
    assert_eq!(
        env.store.remove("app:1").unwrap(),
        Removed {
            untagged: vec!["app:1".into()],
            ..Removed::default()
        }
    );
    assert!(env.store.paths.layers().join(&layer).exists());
    let removed = env.store.remove("app:2").unwrap();
    assert_eq!(removed.deleted.as_deref(), Some(id.as_str()));
    assert_eq!(removed.layers, std::slice::from_ref(&layer));
    assert!(!env.store.paths.layers().join(&layer).exists());
    env.assert_nothing_imported();
}

#[test]
fn rmi_by_id_removes_every_tag_and_keeps_layers_others_use() {
    let env = Env::new();
    let id = image(&env, b"a", "one");
    image(&env, b"a", "two");
    // A second image on the same layer (as a committed image would be), written by hand.
    let mut record: serde_json::Value =
        serde_json::from_slice(&fs::read(env.store.image_path(&id)).unwrap()).unwrap();
    let other = "f".repeat(64);
    record["id"] = other.clone().into();
    record["config"]["cmd"] = serde_json::json!(["true"]);
    fs::write(
        env.store.image_path(&other),
        serde_json::to_vec(&record).unwrap(),
    )
    .unwrap();

    let removed = env.store.remove(&id[..8]).unwrap();
    assert_eq!(removed.untagged, ["one:latest", "two:latest"]);
    assert!(
        removed.layers.is_empty(),
        "the other image still uses the layer"
    );
    let layer = record["layers"][0].as_str().unwrap();
    assert!(env.store.paths.layers().join(layer).exists());
    assert_eq!(
        env.store.remove(&other).unwrap().layers,
        [layer.to_string()]
    );
    assert!(!env.store.paths.layers().join(layer).exists());
    assert!(matches!(
        env.store.remove("one"),
        Err(ImageError::Unknown(_))
    ));
}

#[test]
fn rmi_is_refused_while_a_container_uses_the_image() {
    let env = Env::new();
    let id = image(&env, b"a", "busybox");
    let cid = format!("1234abcd5678{}", "0".repeat(52));
    let record = env.store.paths.container(&cid).join("container.json");
    fs::create_dir_all(record.parent().unwrap()).unwrap();
    let json =
        serde_json::json!({"id": cid, "name": "web", "image_id": id, "other": {"fields": 1}});
    fs::write(&record, json.to_string()).unwrap();

    let err = env.store.remove("busybox").unwrap_err();
    assert_eq!(
        err.to_string(),
        "image \"busybox\" is in use by container \"web\" (id 1234abcd5678)"
    );
    assert_eq!(
        env.store.resolve("busybox").unwrap().id,
        id,
        "nothing was removed"
    );
    // A second tag can still go: the image stays.
    image(&env, b"a", "bb:2");
    assert_eq!(env.store.remove("bb:2").unwrap().untagged, ["bb:2"]);

    fs::remove_file(&record).unwrap();
    assert!(env.store.remove("busybox").unwrap().deleted.is_some());
}
