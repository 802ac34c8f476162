//! Sales: the money engine (`totals`), the tenant's sales settings, tax rates and number
//! series, the catalog, and quotes.
//!
//! One folder per entity, the CRM's shape: `mod.rs` its rules (the service, testable
//! without HTTP), `events.rs` its audited marker, `schema.rs` its GraphQL objects, inputs
//! and root fields, `loader.rs` its dataloaders. `shared.rs` holds what they share.

pub mod catalog;
pub mod credit_notes;
pub mod figures;
pub mod invoices;
pub mod lines;
pub mod payments;
pub mod quotes;
pub mod settings;
mod shared;
pub mod tax_rates;
pub mod totals;
pub mod types;

use std::sync::Arc;

use async_graphql::{MergedObject, Request};
use platform::{
    PublicRoutes, Verticals, attach_loaders, audit::Revertible, auth::Role,
    graphql::batching::RequestSpawner, revert_by_update, tenancy::TenantTx,
};

pub use shared::{DiscountInput, DocumentDiscount};

use catalog::events::Products;
use credit_notes::events::CreditNotes;
use invoices::events::Invoices;
use payments::events::Payments;
use quotes::events::Quotes;
use tax_rates::events::TaxRates;

/// Sales' query fields, each entity's in the order the schema lists them.
#[derive(MergedObject, Default)]
pub struct SalesQuery(
    settings::schema::SettingsQuery,
    tax_rates::schema::TaxRatesQuery,
    catalog::schema::CatalogQuery,
    quotes::schema::QuotesQuery,
    invoices::schema::InvoicesQuery,
    credit_notes::schema::CreditNotesQuery,
    payments::schema::PaymentsQuery,
    figures::schema::ReportsQuery,
);

/// Sales' mutations, each entity's in the order the schema lists them.
#[derive(MergedObject, Default)]
pub struct SalesMutation(
    settings::schema::SettingsMutation,
    tax_rates::schema::TaxRatesMutation,
    catalog::schema::CatalogMutation,
    quotes::schema::QuotesMutation,
    invoices::schema::InvoicesMutation,
    credit_notes::schema::CreditNotesMutation,
    payments::schema::PaymentsMutation,
);

/// What sales brings to the platform: its loaders, the quote link's pages and their rate
/// limiter, the expiry job, and its audited entities. A quote is
/// never reverted through the audit trail: its life is its transitions (a sent quote is
/// revised, not edited).
pub fn register(verticals: &mut Verticals) {
    verticals.loaders.push(attach);
    verticals.add_state(quotes::public::LinkLimiter::default());
    verticals.public_routes.push(PublicRoutes {
        prefix: quotes::public::PREFIX,
        router: quotes::public::routes,
    });
    verticals.handle::<quotes::expiry::ExpireQuote>();
    let by = |min_role, revert| Revertible { min_role, revert };
    verticals.audited::<TaxRates>(by(Role::Admin, revert_by_update!(tax_rates::update)));
    verticals.audited::<Products>(by(Role::Manager, revert_by_update!(catalog::update)));
    // Sales documents live through their actions (a draft edited, a sent quote revised, an
    // issued invoice credited, a payment refunded), never through a revert.
    let by_actions = || {
        by(Role::Owner, |_, _, _| {
            Box::pin(async {
                Err(platform::error::AppError::refused(
                    "INVALID_TRANSITION",
                    "a sales document changes through its actions, not by a revert",
                ))
            })
        })
    };
    verticals.audited::<Quotes>(by_actions());
    verticals.audited::<Invoices>(by_actions());
    verticals.audited::<CreditNotes>(by_actions());
    verticals.audited::<Payments>(by_actions());
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
        lines::loader::LinesByQuote,
        lines::loader::LinesByInvoice,
        lines::loader::LinesByCreditNote,
        invoices::loader::InvoiceById,
        invoices::loader::CreditNotesByInvoice,
        invoices::loader::AllocationsByInvoice,
        payments::loader::PaymentById,
    )
}
