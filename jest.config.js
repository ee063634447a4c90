/** Two projects: `unit` (npm test) and `interop` (real DCMTK, Orthanc, PostgreSQL). */
const transform = { '^.+\\.ts$': ['@swc/jest'] };

module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/tests/unit/**/*.test.ts'],
    },
    {
      displayName: 'interop',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/tests/interop/**/*.test.ts'],
    },
  ],
};
