use api::seed::{BoardLayout, SeedPlan, seed_tenant};
use serde_json::json;
use tests::spawn_app;

/// `nexo seed`'s data, read back through the API: the planned amounts, and a board whose
/// every opportunity has a contact, a company, an owner and a logged call.
#[tokio::test]
async fn seeding_fills_a_tenant_with_the_planned_data() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = app.provision(&admin).await;
    let other = app.provision(&admin).await;
    let plan = SeedPlan {
        contacts: 120,
        opportunities: 30,
        activities: 50,
        extra_pipelines: 2,
        board: Some(BoardLayout {
            stages: 6,
            per_stage: 4,
        }),
        seed: 5,
    };
    let report = seed_tenant(&app.app, &t.slug, &plan).await.expect("seeded");
    assert_eq!(report.contacts, 120);
    assert_eq!(report.opportunities, 30 + 6 * 4);
    assert_eq!(report.activities, 50 + 6 * 4);
    assert_eq!(report.pipelines, 4);

    let counts = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "{ contacts(first: 1) { totalCount } companies(first: 1) { totalCount }
               pipelines { name stages { name opportunities(first: 10) { totalCount nodes {
                 contact { id } company { id } owner { id } latestActivity { kind } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(counts.data("contacts.totalCount"), 120);
    assert_eq!(counts.data("companies.totalCount"), 6);
    let pipelines = counts
        .data("pipelines")
        .as_array()
        .expect("pipelines")
        .clone();
    assert_eq!(pipelines.len(), 4);
    let board = pipelines
        .iter()
        .find(|p| p["name"] == "Board")
        .expect("a Board pipeline");
    let stages = board["stages"].as_array().expect("stages");
    assert_eq!(stages.len(), 6);
    assert_eq!(stages[4]["name"], "Won");
    assert_eq!(stages[5]["name"], "Lost");
    for stage in stages {
        assert_eq!(stage["opportunities"]["totalCount"], 4, "{stage}");
        for deal in stage["opportunities"]["nodes"].as_array().expect("nodes") {
            for edge in ["contact", "company", "owner"] {
                assert!(deal[edge]["id"].is_string(), "{edge} of {deal}");
            }
            assert_eq!(deal["latestActivity"]["kind"], "CALL", "{deal}");
        }
    }
    // Pipelines of 5 to 12 stages beside the default and the board.
    let extra: Vec<_> = pipelines
        .iter()
        .filter(|p| {
            p["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("Pipeline "))
        })
        .collect();
    assert_eq!(extra.len(), 2);
    for pipeline in extra {
        let stages = pipeline["stages"].as_array().expect("stages").len();
        assert!((5..=12).contains(&stages), "{pipeline}");
    }

    // Only the seeded tenant holds the data.
    let untouched = app
        .gql(
            &other.host,
            Some(&other.owner_token),
            "{ contacts(first: 1) { totalCount } pipelines { name } }",
            json!({}),
        )
        .await;
    assert_eq!(untouched.data("contacts.totalCount"), 0);
    assert_eq!(
        untouched.data("pipelines").as_array().map(Vec::len),
        Some(1)
    );
}
