"""The static-site model both site hooks share (``hooks/npm_build`` deploys, ``hooks/site`` lists and rolls back).

This package imports neither hook package. Modules, from the bottom up:

* ``layout``: every key this tool names under a site's prefix (site objects, the state folder, records);
* ``objects``: one object as listed (``RemoteObject``) and as recorded (``ObjectState``, the one record type);
* ``headers``: Content-Type and Cache-Control of a site path;
* ``manifest``: the site manifest document (which build the site holds, each object's state, the lock);
* ``inplace``: the in-place layout's pure sync planner;
* ``s3``: the one S3 wrapper (listing, transfers, conditional writes, errors, the bounded thread pool);
* ``lock``: the site lock (the manifest protocol) and the lease a run holds while it writes;
* ``records``: release records and comparisons (pure); ``store``: the release store in S3;
  ``record``: recording a release;
* ``atomic``: the atomic layout's decisions (pure); ``atomic_deploy``: deploy, switch and prune; ``pointer``: the
  release pointer (``kvs``: the KeyValueStore client and the pointer's value model); ``switches``: the journal.
* trust boundaries of what is read back: ``documents`` (the strict models of records, index and manifest),
  ``containment`` (which keys a site may write; neighbour sites), ``proof`` (a restore's bytes proven by S3's
  SHA-256); ``forget`` (purging paths published by mistake).
"""
