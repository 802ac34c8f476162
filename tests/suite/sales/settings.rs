//! Sales settings, tax rates and number series: defaults, changes by admins only, and bad
//! input refused without a change.

use super::*;

const SETTINGS: &str = "salesSettings { timezone defaultCurrency rounding taxRounding \
    pricesIncludeTax quoteValidityDays defaultTaxRate { id name } }";

#[tokio::test]
async fn settings_start_sensible_and_only_admins_change_them() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let (_, sales) = app.add_user(&t, "SALES").await;
    let (_, finance) = app.add_user(&t, "FINANCE").await;

    let read = app
        .gql(
            &t.host,
            Some(&sales),
            &format!("{{ {SETTINGS} }}"),
            json!({}),
        )
        .await;
    assert_eq!(
        read.ok().data("salesSettings"),
        &json!({"timezone": "UTC", "defaultCurrency": "USD", "rounding": "HALF_AWAY_FROM_ZERO",
                "taxRounding": "PER_GROUP", "pricesIncludeTax": false, "quoteValidityDays": 30,
                "defaultTaxRate": null})
    );

    let vat = create_tax_rate(&app, &t, "VAT 21%", "21").await;
    let update =
        "mutation($input: UpdateSalesSettingsInput!) { updateSalesSettings(input: $input) {
        timezone defaultCurrency rounding taxRounding pricesIncludeTax quoteValidityDays
        defaultTaxRate { id name } } }";
    let input = json!({"timezone": "Europe/Madrid", "defaultCurrency": "eur", "rounding": "HALF_EVEN",
                       "taxRounding": "PER_LINE", "pricesIncludeTax": true,
                       "defaultTaxRateId": vat, "quoteValidityDays": 15});
    for token in [&sales, &finance] {
        let refused = app
            .gql(&t.host, Some(token), update, json!({"input": input}))
            .await;
        assert_eq!(refused.error_code(), "FORBIDDEN");
    }
    let changed = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            update,
            json!({"input": input}),
        )
        .await;
    assert_eq!(
        changed.ok().data("updateSalesSettings"),
        &json!({"timezone": "Europe/Madrid", "defaultCurrency": "EUR", "rounding": "HALF_EVEN",
                "taxRounding": "PER_LINE", "pricesIncludeTax": true, "quoteValidityDays": 15,
                "defaultTaxRate": {"id": vat, "name": "VAT 21%"}})
    );

    for (bad, field) in [
        (json!({"timezone": "Mars/Olympus"}), "timezone"),
        (json!({"defaultCurrency": "XYZ"}), "defaultCurrency"),
        (json!({"defaultCurrency": "XAU"}), "defaultCurrency"),
        (json!({"quoteValidityDays": 0}), "quoteValidityDays"),
        (json!({"defaultTaxRateId": "not-an-id"}), "defaultTaxRateId"),
    ] {
        let refused = app
            .gql(&t.host, Some(&t.owner_token), update, json!({"input": bad}))
            .await;
        assert_eq!(refused.error_code(), "BAD_USER_INPUT", "{bad}");
        assert_eq!(refused.body["errors"][0]["extensions"]["field"], field);
    }
    let unchanged = app
        .gql(
            &t.host,
            Some(&sales),
            &format!("{{ {SETTINGS} }}"),
            json!({}),
        )
        .await;
    assert_eq!(
        unchanged.ok().data("salesSettings.timezone"),
        "Europe/Madrid"
    );
    assert_eq!(unchanged.data("salesSettings.quoteValidityDays"), 15);

    // Another tenant's rate is not found here.
    let other = app.new_tenant().await;
    let foreign = create_tax_rate(&app, &other, "VAT", "20").await;
    let refused = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            update,
            json!({"input": {"defaultTaxRateId": foreign}}),
        )
        .await;
    assert_eq!(refused.error_code(), "NOT_FOUND");
}

#[tokio::test]
async fn tax_rates_are_named_once_and_untaxed_kinds_are_zero() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let (_, manager) = app.add_user(&t, "MANAGER").await;
    let create = "mutation($input: CreateTaxRateInput!) { createTaxRate(input: $input) { id name kind percentage active } }";

    let reduced = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            create,
            json!({"input": {"name": "Reduced", "kind": "REDUCED", "percentage": "5.5"}}),
        )
        .await;
    let reduced = reduced.ok().data("createTaxRate").clone();
    assert_eq!(reduced["percentage"], "5.5");
    assert_eq!(reduced["kind"], "REDUCED");

    let refused = app
        .gql(
            &t.host,
            Some(&manager),
            create,
            json!({"input": {"name": "Other", "percentage": "10"}}),
        )
        .await;
    assert_eq!(refused.error_code(), "FORBIDDEN");
    for (input, code) in [
        (json!({"name": "reduced", "percentage": "7"}), "CONFLICT"),
        (
            json!({"name": "Exempt", "kind": "EXEMPT", "percentage": "4"}),
            "BAD_USER_INPUT",
        ),
        (
            json!({"name": "Huge", "percentage": "100.5"}),
            "BAD_USER_INPUT",
        ),
        (
            json!({"name": "Negative", "percentage": "-1"}),
            "BAD_USER_INPUT",
        ),
        (
            json!({"name": "Precise", "percentage": "1.23456"}),
            "BAD_USER_INPUT",
        ),
        (json!({"name": "  ", "percentage": "1"}), "BAD_USER_INPUT"),
    ] {
        let refused = app
            .gql(
                &t.host,
                Some(&t.owner_token),
                create,
                json!({"input": input}),
            )
            .await;
        assert_eq!(refused.error_code(), code, "{input}");
    }

    // Archived rates leave the list unless asked for.
    let archive =
        "mutation($id: ID!) { updateTaxRate(id: $id, input: {active: false}) { active } }";
    let archived = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            archive,
            json!({"id": reduced["id"]}),
        )
        .await;
    assert_eq!(archived.ok().data("updateTaxRate.active"), false);
    let list = "query($all: Boolean) { taxRates(includeArchived: $all) { name } }";
    let active = app
        .gql(&t.host, Some(&manager), list, json!({"all": false}))
        .await;
    assert_eq!(active.ok().data("taxRates"), &json!([]));
    let all = app
        .gql(&t.host, Some(&manager), list, json!({"all": true}))
        .await;
    assert_eq!(all.ok().data("taxRates"), &json!([{"name": "Reduced"}]));

    // Another tenant cannot see or change it.
    let other = app.new_tenant().await;
    let foreign = app
        .gql(
            &other.host,
            Some(&other.owner_token),
            archive,
            json!({"id": reduced["id"]}),
        )
        .await;
    assert_eq!(foreign.error_code(), "NOT_FOUND");
}

#[tokio::test]
async fn number_series_have_one_default_per_kind_and_keep_their_used_numbers() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let list = "{ documentSeries(kind: INVOICE) { id name prefix digits nextNumber lastNumber isDefault } }";
    let series = app
        .gql(&t.host, Some(&t.owner_token), list, json!({}))
        .await;
    let defaults = series.ok().data("documentSeries").clone();
    assert_eq!(defaults.as_array().map(Vec::len), Some(1));
    assert_eq!(defaults[0]["prefix"], "INV-");
    assert_eq!(defaults[0]["isDefault"], true);

    let create = "mutation($input: CreateDocumentSeriesInput!) { createDocumentSeries(input: $input) { id isDefault nextNumber } }";
    let new = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            create,
            json!({"input": {"kind": "INVOICE", "name": "2027", "prefix": "F27-",
                             "firstNumber": 100, "lastNumber": 199, "isDefault": true}}),
        )
        .await;
    assert_eq!(new.ok().data("createDocumentSeries.nextNumber"), 100);
    let after = app
        .gql(&t.host, Some(&t.owner_token), list, json!({}))
        .await;
    let defaults: Vec<bool> = after
        .ok()
        .data("documentSeries")
        .as_array()
        .expect("list")
        .iter()
        .map(|s| s["isDefault"].as_bool().expect("bool"))
        .collect();
    assert_eq!(defaults, [false, true], "one default per kind");

    for (input, code) in [
        (
            json!({"kind": "INVOICE", "name": "Dup", "prefix": "F27-"}),
            "CONFLICT",
        ),
        (
            json!({"kind": "INVOICE", "name": "Range", "prefix": "R-", "firstNumber": 10, "lastNumber": 9}),
            "BAD_USER_INPUT",
        ),
        (
            json!({"kind": "INVOICE", "name": "Zero", "prefix": "Z-", "firstNumber": 0}),
            "BAD_USER_INPUT",
        ),
        (
            json!({"kind": "INVOICE", "name": "Digits", "prefix": "D-", "digits": 40}),
            "BAD_USER_INPUT",
        ),
    ] {
        let refused = app
            .gql(
                &t.host,
                Some(&t.owner_token),
                create,
                json!({"input": input}),
            )
            .await;
        assert_eq!(refused.error_code(), code, "{input}");
    }
    let (_, sales) = app.add_user(&t, "SALES").await;
    let refused = app
        .gql(
            &t.host,
            Some(&sales),
            create,
            json!({"input": {"kind": "QUOTE", "name": "Mine", "prefix": "M-"}}),
        )
        .await;
    assert_eq!(refused.error_code(), "FORBIDDEN");

    // The default stops being one only when another takes its place.
    let id = new.data("createDocumentSeries.id").clone();
    let update = "mutation($id: ID!, $input: UpdateDocumentSeriesInput!) { updateDocumentSeries(id: $id, input: $input) { isDefault lastNumber } }";
    let refused = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            update,
            json!({"id": id, "input": {"isDefault": false}}),
        )
        .await;
    assert_eq!(refused.error_code(), "BAD_USER_INPUT");
    let lifted = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            update,
            json!({"id": id, "input": {"lastNumber": null}}),
        )
        .await;
    assert_eq!(lifted.ok().data("updateDocumentSeries.isDefault"), true);
    assert!(lifted.body["data"]["updateDocumentSeries"]["lastNumber"].is_null());
}
