// Package sim is a UMAPI simulator: an IMS token endpoint and the User
// Management API under /v2/usermanagement, speaking the wire protocol of
// shared/reference/umapi-protocol.md closely enough that Adobe's own Python
// client works against it unchanged.
//
// It backs `usersync sim` (Main), the UMAPI client's tests (New, Handler,
// Start) and `usersync demo`. The org lives in memory: users are kept in
// creation order for paging and indexed by lower-cased email and username,
// so a million-user seed pages without scanning; one lock serialises
// actions, reads share it.
//
// Where the protocol reference marks a fact UNCERTAIN the simulator takes
// the stricter reading; docs/simulator.md lists every such choice.
package sim
