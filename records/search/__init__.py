"""The search engine every resource shares (SPEC §13), by concern: ``text`` (the search document),
``matching`` (terms and how they match), ``relevance`` and ``resolve`` (identifier resolution).
The search surfaces (the JSON search body, its pages, the registry the search routes read) are
the HTTP side, in ``config.api.search``.

The search document
    Every searchable record keeps a ``search_text`` column: its names, descriptions, codes and
    source ids in every language, case-folded, accent-stripped (``Crème`` → ``creme``) and reduced
    to words separated by single spaces. The write paths fill it through ``search_document``.
    Normalising happens in Python because PostgreSQL's ``unaccent()`` is not IMMUTABLE and so
    cannot back an index; a term is normalised by the same function before it meets the column.

How a term matches (``matching.term_condition``)
    Every word of the term must match the start of a word of the document (``jack`` finds
    ``jacket``). An alphabetic word of ``FUZZY_MIN_LENGTH`` letters or more may instead match
    with one typo: a letter dropped, inserted or replaced, or two neighbours swapped (``jakcet``
    finds ``jacket``). Shorter words and words holding digits (codes) never match fuzzily: typo
    noise on them would flood the results with near-identical codes.

    PostgreSQL: the whole term is one full text query over ``to_tsvector('simple', search_text)``
    (GIN expression index, no recheck): each word as a prefix, OR-ed with its typo corrections.
    The corrections come from the vocabulary (``SearchWord``: every word of every document, kept
    by triggers): one query finds the known words one edit away through a trigram GIN index.
    (Trigram similarity on the documents themselves was measured first and dropped: it misses
    swapped letters, "jakcet" shares 2 of 7 trigrams with "jacket", and rechecking it costs
    ~35 µs per candidate row, 650 ms for a common word on 100,000 products.) The corrections
    are pinned in the page cursors so that every page of a walk runs the same query.
    SQLite: word-start ``LIKE`` and, for typo tolerance, one ``LIKE`` per edit-distance-one
    variant of the word; the same matches, without an index (a full scan, fine for development).

Relevance (``relevance.relevance``)
    Cheap string positions (STRPOS/INSTR), the same on both databases and depending only on the
    row and the term, so keyset pages by relevance never skip or repeat a row: an exact code
    first, then the whole term as a phrase, then the share of words found (typo-corrected ones
    count half), then how early the phrase appears (names precede descriptions in the document).

Adding a resource (clusters, cluster options)
    Give the model a ``search_text`` column that its services fill with ``search_document``, a
    migration with its full text index and the two vocabulary triggers (as catalogue 0002), then
    from its ``AppConfig.ready()`` call ``config.api.search.register_surface(SearchSurface(...))``
    and ``resolve.register_resolvers(Resolver("cluster", (id_key(...), source_key(...),
    field_key(..., "code", "code"))))``. The
    ``POST /v2/<name>/search`` route, its global search hits and its resolve type follow
    (``clusters.search`` + ``clusters.api.search`` are the latest example); a resolve type
    without a registered resolver answers ``found: false``. Pass ``refresh=`` to the surface
    so ``manage.py rebuild_search_text`` covers the resource too.
"""
