"""`splat-web`: a self-contained web page that plays a 3D or 4D Gaussian asset (gsplat.js, vendored from npm)."""
