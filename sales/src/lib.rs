//! Sales: the money engine (`totals`), the tenant's sales settings, tax rates and number
//! series, the catalog, and quotes.
//!
//! One folder per entity, the CRM's shape: `mod.rs` its rules (the service, testable
//! without HTTP), `events.rs` its audited marker, `schema.rs` its GraphQL objects, inputs
//! and root fields, `loader.rs` its dataloaders. `shared.rs` holds what they share.

pub mod catalog;
pub mod quotes;
pub mod settings;
mod shared;
pub mod tax_rates;
pub mod totals;
pub mod types;

use std::sync::Arc;

use async_graphql::{MergedObject, Request};
use platform::{
    Verticals, attach_loaders, audit::Revertible, auth::Role, graphql::batching::RequestSpawner,
    revert_by_update, tenancy::TenantTx,
};

pub use shared::{DiscountInput, DocumentDiscount};

use catalog::events::Products;
use quotes::events::Quotes;
use tax_rates::events::TaxRates;

/// Sales' query fields, each entity's in the order the schema lists them.
#[derive(MergedObject, Default)]
pub struct SalesQuery(
    settings::schema::SettingsQuery,
    tax_rates::schema::TaxRatesQuery,
    catalog::schema::CatalogQuery,
    quotes::schema::QuotesQuery,
);

/// Sales' mutations, each entity's in the order the schema lists them.
#[derive(MergedObject, Default)]
pub struct SalesMutation(
    settings::schema::SettingsMutation,
    tax_rates::schema::TaxRatesMutation,
    catalog::schema::CatalogMutation,
    quotes::schema::QuotesMutation,
);

/// What sales brings to the platform: its loaders and its audited entities. A quote is
/// never reverted through the audit trail: its life is its transitions (a sent quote is
/// revised, not edited).
pub fn register(verticals: &mut Verticals) {
    verticals.loaders.push(attach);
    let by = |min_role, revert| Revertible { min_role, revert };
    verticals.audited::<TaxRates>(by(Role::Admin, revert_by_update!(tax_rates::update)));
    verticals.audited::<Products>(by(Role::Manager, revert_by_update!(catalog::update)));
    verticals.audited::<Quotes>(by(Role::Owner, |_, _, _| {
        Box::pin(async {
            Err(platform::error::AppError::refused(
                "INVALID_TRANSITION",
                "a quote is changed through its actions (edit a draft, revise a sent quote), not reverted",
            ))
        })
    }));
}

/// Puts sales' loaders on a request.
fn attach(request: Request, tx: &Arc<TenantTx>, spawner: &RequestSpawner) -> Request {
    attach_loaders!(
        request,
        tx,
        spawner,
        catalog::loader::ProductById,
        catalog::loader::TaxRateById,
        catalog::loader::ComponentsByBundle,
        quotes::loader::QuoteById,
        quotes::loader::LinesByQuote,
    )
}
