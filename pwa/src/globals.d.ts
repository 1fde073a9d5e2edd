/** Set by the build (build.mjs): the release id of this build of the app. */
declare const __RELEASE__: string;
