"""Source connectors: each module turns one API into `syncd.model` records and a cursor."""
