// Next's ambient types. Not next-env.d.ts: `next build` rewrites that file to import files under
// .next/, which do not exist before the first build, and `tsc -b` runs first.
/// <reference types="next" />
/// <reference types="next/image-types/global" />
