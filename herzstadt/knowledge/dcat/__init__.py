"""The city's DCAT-AP.de catalogue (rdflib), validated against the DCAT-AP.de SHACL shapes."""
