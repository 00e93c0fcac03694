"""The ballot part of the decisions pillar: proposals and their feasibility check, web voting with
receipts, the public hash-chained log and the receipt check (helper: ballot)."""
