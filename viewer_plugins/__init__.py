"""napari plugin of nvc (npe2 manifest: ``napari.yaml``). Research use only, not for diagnosis."""
