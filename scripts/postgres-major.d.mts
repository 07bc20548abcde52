// Types of postgres-major.mjs for the TypeScript side of the stack.
export declare const PG_MAJOR_ENV: string;
export declare const PG_PROVE_PACKAGE: string;
export declare function pgPaths(major: number | string): { bin: string; lib: string; extensions: string };
export declare function debianPackages(major: number | string): Array<{ name: string; installed: () => boolean }>;
export declare function missingPackages(major: number | string): string[];
export declare function installedMajors(): number[];
export declare function aptCandidates(names: string[]): { answer: string; candidates: Record<string, string | null> };
export type PostgresDecision =
  | { major: number; source: string; missing: string[]; problem?: undefined }
  | { major: null; problem: string; aptAnswer?: string; packages: string[]; source?: undefined; missing?: undefined };
export declare function decidePostgres(
  opts?: { env?: NodeJS.ProcessEnv; useApt?: boolean; clusterMajor?: number },
): PostgresDecision;
