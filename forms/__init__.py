"""WTForms classes by area: questionnaire, espace (staff), admin (operator)."""
