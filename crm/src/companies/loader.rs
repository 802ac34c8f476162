//! Companies' dataloaders.

use entity::tenant::{company, contact, opportunity};
use platform::{by_id, tx_loader};
use uuid::Uuid;

use crate::shared::first_of_each;

by_id!(CompanyById, company);

tx_loader!(
    /// (company id, n) -> its first n contacts.
    ContactsByCompany, (Uuid, u64) => Vec<contact::Model>, |conn, keys| {
        first_of_each::<contact::Entity, _>(conn, "contacts", "company_id", keys, |c| c.company_id).await
    }
);

tx_loader!(
    /// (company id, n) -> its first n opportunities.
    OpportunitiesByCompany, (Uuid, u64) => Vec<opportunity::Model>, |conn, keys| {
        first_of_each::<opportunity::Entity, _>(conn, "opportunities", "company_id", keys, |o| o.company_id).await
    }
);
