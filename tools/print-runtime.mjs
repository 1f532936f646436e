// Printed first by `npm test` so every log says which runtime the suite ran on.
console.log(`node ${process.version} (${process.execPath}) on ${process.platform}/${process.arch}`);
