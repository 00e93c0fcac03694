"""The city network: partners this city follows, harvesting their catalogues, the network API,
replicating a partner's measure with provenance and reporting it back."""
