"""Alert rules: which analysed tweets and chunks become notifications, for which channels."""
