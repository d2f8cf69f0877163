"""The book's machinery: the chapter contract (``chapter``: parameters, cached parts, claims),
validated profiles (``profiles``), the results cache (``cache``) and its code fingerprints
(``fingerprints``), claims and their verdicts (``claims``, ``stats``), a page's notebook face
(``page``), costs, and the environment appendix. It knows nothing of any particular chapter."""
