//! What a tax rate's changes announce: `tax_rate.created`, `.updated` and `.deleted`.

platform::audited!(
    /// The tax rate as the audit trail and the event log know it.
    pub TaxRates: TaxRate = "tax_rate" in entity::tenant::tax_rate
);
