"""The city's back office as a shell (``/verwaltung/``): its home, layout and navigation, and the
management of city roles and blocks. Pillars add their sections (``Pillar.backoffice_sections``,
``Pillar.backoffice_urls``, panels on the page ``"backoffice"``) and reuse the helpers of
:mod:`.access`."""
