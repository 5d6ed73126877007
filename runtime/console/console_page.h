// The console's single page: HTML, CSS and plain JavaScript, embedded in the binary so
// the console needs no files and no build step. It polls /api/cluster every 2 s and draws
// the heat map as SVG. `?metric=reads|writes|bytes` picks the heat map's first metric.
#pragma once

namespace ekv::runtime::console {

extern const char kConsolePage[];

}  // namespace ekv::runtime::console
