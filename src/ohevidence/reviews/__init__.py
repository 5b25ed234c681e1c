"""Review of reviews: included systematic reviews, their findings and overlap (``ohevidence reviews``)."""
