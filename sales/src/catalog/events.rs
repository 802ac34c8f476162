//! What a product's changes announce: `product.created`, `.updated` and `.deleted`.

platform::audited!(
    /// The product as the audit trail and the event log know it.
    pub Products: Product = "product" in entity::tenant::product
);
