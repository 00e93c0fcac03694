"""The living Pfaff-Areal: simulation models (:mod:`.models`), the demo's sensors (:mod:`.district`),
publishing the current values (:mod:`.publish`) and 30 days of history (:mod:`.backfill`)."""
