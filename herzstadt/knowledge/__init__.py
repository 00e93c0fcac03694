"""Knowledge transfer (Wissenstransfer): measure profiles other cities learn from, the DCAT-AP.de
catalogue, and the network of cities that follow and replicate each other's measures."""
