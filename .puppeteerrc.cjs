// @memlab/core (a devDependency of the peer benchmark, bench/peers.ts) depends on puppeteer, which would fetch a
// browser on install; the benchmark only reads heap snapshot files, so no browser is fetched.
module.exports = { skipDownload: true };
