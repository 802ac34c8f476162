//! Sales' closed vocabularies, shared by the services and the GraphQL API. Each is stored as
//! its lowercase name.

platform::stored_enum!(
    /// How an amount is rounded to the currency's minor unit.
    RoundingMode {
        /// 2.5 -> 3 (the default).
        HalfAwayFromZero => "half_away_from_zero",
        /// 2.5 -> 2, 3.5 -> 4 ("banker's rounding").
        HalfEven => "half_even",
        /// 2.5 -> 2.
        HalfTowardZero => "half_toward_zero",
    }
);

platform::stored_enum!(
    /// Where tax is rounded.
    TaxRounding {
        /// Once per tax rate, on the sum of its lines (EN 16931; the default).
        PerGroup => "per_group",
        /// On each line, then added up.
        PerLine => "per_line",
    }
);

platform::stored_enum!(
    /// What a tax rate is, as EN 16931's VAT categories name it.
    TaxKind {
        /// The standard rate (S).
        Standard => "standard",
        /// A reduced rate (S, lower).
        Reduced => "reduced",
        /// Zero-rated (Z).
        Zero => "zero",
        /// Exempt from tax (E).
        Exempt => "exempt",
        /// The buyer accounts for the tax (AE).
        ReverseCharge => "reverse_charge",
        /// Not subject to tax (O).
        OutsideScope => "outside_scope",
    }
);

platform::stored_enum!(
    /// What the catalog sells.
    ProductKind {
        Product => "product",
        Service => "service",
        /// Sold as one line, made of other products.
        Bundle => "bundle",
    }
);

platform::stored_enum!(
    /// Which documents a number series numbers.
    SeriesKind {
        Quote => "quote",
        Invoice => "invoice",
        CreditNote => "credit_note",
    }
);

platform::stored_enum!(
    /// Where a quote stands.
    QuoteStatus {
        /// Being written; not numbered, no link.
        Draft => "draft",
        /// Numbered, frozen and sent: the client may accept or reject it.
        Sent => "sent",
        Accepted => "accepted",
        Rejected => "rejected",
        /// Its valid-until day passed undecided.
        Expired => "expired",
        /// A newer revision replaced it.
        Superseded => "superseded",
        Cancelled => "cancelled",
    }
);

platform::stored_enum!(
    /// What can be done to a quote (`Quote.availableActions`).
    QuoteAction {
        /// Change its fields and lines (drafts).
        Edit => "edit",
        /// Delete it (drafts never sent).
        Delete => "delete",
        /// Number it, freeze it and mint its public link.
        Send => "send",
        /// Start a new draft revision that supersedes it.
        Revise => "revise",
        /// Record the client's acceptance.
        Accept => "accept",
        /// Record the client's rejection.
        Reject => "reject",
        Cancel => "cancel",
    }
);

platform::stored_enum!(
    /// Where an invoice or a credit note stands.
    DocumentStatus {
        /// Being written; not numbered.
        Draft => "draft",
        /// Numbered and final: corrected only by credit notes.
        Issued => "issued",
    }
);

platform::stored_enum!(
    /// What can be done to an invoice (`Invoice.availableActions`).
    InvoiceAction {
        /// Change its fields and lines (drafts).
        Edit => "edit",
        /// Delete it (drafts).
        Delete => "delete",
        /// Number it with its series' next number and make it final.
        Issue => "issue",
        /// Correct it with a credit note (issued, with something left to credit).
        Credit => "credit",
        /// Record a payment or a refund against it (issued).
        RecordPayment => "record_payment",
    }
);

platform::stored_enum!(
    /// What can be done to a credit note (`CreditNote.availableActions`).
    CreditNoteAction {
        Edit => "edit",
        Delete => "delete",
        Issue => "issue",
    }
);

platform::stored_enum!(
    /// How much of an issued invoice is paid, derived from its payments and credit notes.
    PaymentStatus {
        Unpaid => "unpaid",
        Partial => "partial",
        Paid => "paid",
        /// More was paid than is due (a credit note after payment): the client has credit.
        Overpaid => "overpaid",
    }
);

platform::stored_enum!(
    /// How a payment was made.
    PaymentMethod {
        BankTransfer => "bank_transfer",
        Card => "card",
        Cash => "cash",
        Cheque => "cheque",
        DirectDebit => "direct_debit",
        Other => "other",
    }
);
