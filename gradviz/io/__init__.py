"""Files without Qt: run files (npz + JSON config), atomic writes."""
