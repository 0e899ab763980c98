"""Reports: the brief for the head of a region as DOCX, PDF and XLSX."""
