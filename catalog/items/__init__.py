"""The guidance catalog's categories and items: revisions, status decisions, search, import and export."""
