/** RADIUS numbers (RFC 2865, 2866, 2869, 3579, 5176) and the 3GPP vendor attributes of TS 29.061, plus value builders. */

/** Packet codes. */
export const Code = {
  AccessRequest: 1,
  AccessAccept: 2,
  AccessReject: 3,
  AccountingRequest: 4,
  AccountingResponse: 5,
  AccessChallenge: 11,
  StatusServer: 12,
  DisconnectRequest: 40,
  DisconnectAck: 41,
  DisconnectNak: 42,
  CoaRequest: 43,
  CoaAck: 44,
  CoaNak: 45,
} as const;

/** Standard attribute types. */
export const Attr = {
  UserName: 1,
  UserPassword: 2,
  ChapPassword: 3,
  NasIpAddress: 4,
  NasPort: 5,
  ServiceType: 6,
  FramedProtocol: 7,
  FramedIpAddress: 8,
  FramedIpNetmask: 9,
  FilterId: 11,
  ReplyMessage: 18,
  State: 24,
  Class: 25,
  VendorSpecific: 26,
  SessionTimeout: 27,
  IdleTimeout: 28,
  CalledStationId: 30,
  CallingStationId: 31,
  NasIdentifier: 32,
  ProxyState: 33,
  AcctStatusType: 40,
  AcctDelayTime: 41,
  AcctInputOctets: 42,
  AcctOutputOctets: 43,
  AcctSessionId: 44,
  AcctAuthentic: 45,
  AcctSessionTime: 46,
  AcctInputPackets: 47,
  AcctOutputPackets: 48,
  AcctTerminateCause: 49,
  AcctMultiSessionId: 50,
  AcctLinkCount: 51,
  AcctInputGigawords: 52,
  AcctOutputGigawords: 53,
  EventTimestamp: 55,
  NasPortType: 61,
  AcctInterimInterval: 85,
  EapMessage: 79,
  MessageAuthenticator: 80,
  NasPortId: 87,
  NasFilterRule: 92,
  NasIpv6Address: 95,
  FramedIpv6Prefix: 97,
  ErrorCause: 101,
} as const;

/** IANA enterprise number of 3GPP. */
export const VENDOR_3GPP = 10415;

/** 3GPP vendor-specific attribute types (TS 29.061 clause 16.4.7). */
export const Attr3gpp = {
  Imsi: 1,
  ChargingId: 2,
  PdpType: 3,
  ChargingGatewayAddress: 4,
  GprsNegotiatedQosProfile: 5,
  SgsnAddress: 6,
  GgsnAddress: 7,
  ImsiMccMnc: 8,
  GgsnMccMnc: 9,
  Nsapi: 10,
  SessionStopIndicator: 11,
  SelectionMode: 12,
  ChargingCharacteristics: 13,
  SgsnMccMnc: 18,
  ImeiSv: 20,
  RatType: 21,
  UserLocationInfo: 22,
  MsTimeZone: 23,
} as const;

/** Acct-Status-Type values (RFC 2866 5.1). */
export const AcctStatus = {
  Start: 1,
  Stop: 2,
  InterimUpdate: 3,
  AccountingOn: 7,
  AccountingOff: 8,
} as const;

/** Acct-Terminate-Cause names by value (RFC 2866 5.10). */
export const TERMINATE_CAUSES: ReadonlyMap<number, string> = new Map([
  [1, 'User-Request'],
  [2, 'Lost-Carrier'],
  [3, 'Lost-Service'],
  [4, 'Idle-Timeout'],
  [5, 'Session-Timeout'],
  [6, 'Admin-Reset'],
  [7, 'Admin-Reboot'],
  [8, 'Port-Error'],
  [9, 'NAS-Error'],
  [10, 'NAS-Request'],
  [11, 'NAS-Reboot'],
  [12, 'Port-Unneeded'],
  [13, 'Port-Preempted'],
  [14, 'Port-Suspended'],
  [15, 'Service-Unavailable'],
  [16, 'Callback'],
  [17, 'User-Error'],
  [18, 'Host-Request'],
]);

/** Error-Cause values (RFC 5176 3.5). */
export const ErrorCause = {
  ResidualSessionContextRemoved: 201,
  InvalidEapPacket: 202,
  UnsupportedAttribute: 401,
  MissingAttribute: 402,
  NasIdentificationMismatch: 403,
  InvalidRequest: 404,
  UnsupportedService: 405,
  UnsupportedExtension: 406,
  InvalidAttributeValue: 407,
  AdministrativelyProhibited: 501,
  RequestNotRoutable: 502,
  SessionContextNotFound: 503,
  SessionContextNotRemovable: 504,
  OtherProxyProcessingError: 505,
  ResourcesUnavailable: 506,
  RequestInitiated: 507,
  MultipleSessionSelectionUnsupported: 508,
} as const;

/**
 * How a vendor lays out the sub-attributes inside its Vendor-Specific attributes: octets of the sub-type and of the
 * sub-length (0: no length, one sub-attribute fills the rest). `'opaque'` keeps the vendor's data undecoded.
 */
export type VendorFormat = { readonly typeOctets: 1 | 2 | 4; readonly lengthOctets: 0 | 1 | 2 } | 'opaque';

/** The RFC 2865 suggested layout, used by 3GPP and most vendors. */
export const STANDARD_VENDOR_FORMAT: VendorFormat = { typeOctets: 1, lengthOctets: 1 };

/**
 * Vendors known to use another layout (as FreeRADIUS's dictionaries declare them). Starent is left out on purpose:
 * its equipment uses 1,1 or 2,2 depending on configuration, so an operator must say which.
 */
export const DEFAULT_VENDOR_FORMATS: ReadonlyMap<number, VendorFormat> = new Map<number, VendorFormat>([
  [429, { typeOctets: 4, lengthOctets: 0 }], // USR
  [637, { typeOctets: 2, lengthOctets: 1 }], // Alcatel-ESAM
  [4846, { typeOctets: 2, lengthOctets: 1 }], // Lucent
  [16445, { typeOctets: 2, lengthOctets: 1 }], // Kineto
]);

// ---- value builders for encoding -------------------------------------------------------------------------------

/** A 32-bit unsigned integer value (RADIUS "integer" / "time"). */
export function uint32Value(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

/** A one-octet value (3GPP "byte" attributes such as 3GPP-RAT-Type). */
export function uint8Value(n: number): Buffer {
  return Buffer.of(n & 0xff);
}

/** A dotted IPv4 address as 4 octets; throws RangeError on anything else. */
export function ipv4Value(address: string): Buffer {
  const parts = address.split('.');
  if (parts.length !== 4) throw new RangeError(`not an IPv4 address: ${address}`);
  const b = Buffer.allocUnsafe(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    const n = Number(p);
    if (!/^\d{1,3}$/.test(p) || n > 255) throw new RangeError(`not an IPv4 address: ${address}`);
    b[i] = n;
  }
  return b;
}

/** Event-Timestamp style value: whole seconds since the epoch. */
export function timeValue(date: Date): Buffer {
  return uint32Value(Math.floor(date.getTime() / 1000));
}

/** An octet string written in hex, with or without a 0x prefix. */
export function hexValue(hex: string): Buffer {
  const h = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex;
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) throw new RangeError(`not a hex string: ${hex}`);
  return Buffer.from(h, 'hex');
}

/** Octets and gigawords (RFC 2869 5.1/5.2) for a byte count up to 2^53. */
export function splitOctets(bytes: number): { octets: number; gigawords: number } {
  const gigawords = Math.floor(bytes / 4294967296);
  return { octets: bytes - gigawords * 4294967296, gigawords };
}

// ---- attributes to encode ---------------------------------------------------------------------------------------

/** An attribute value to encode: octets as given, a string as UTF-8, a number as a 32-bit unsigned integer. */
export type AttributeValue = Uint8Array | string | number;

/**
 * One attribute to encode. A non-zero `vendorId` makes it a Vendor-Specific sub-attribute (`vendorType`, written in
 * the 1,1 layout; `vendorType` -1 writes `value` as the vendor's raw data); otherwise `type` is the attribute type.
 * A decoded attribute has this shape too, so decoded attributes can be sent on.
 */
export interface OutgoingAttribute {
  readonly type?: number;
  readonly vendorId?: number;
  readonly vendorType?: number;
  readonly value: AttributeValue;
}

/** A standard attribute. */
export const attr = (type: number, value: AttributeValue): OutgoingAttribute => ({ type, value });

/** A vendor-specific sub-attribute. */
export const vendorAttr = (vendorId: number, vendorType: number, value: AttributeValue): OutgoingAttribute => ({
  type: Attr.VendorSpecific,
  vendorId,
  vendorType,
  value,
});

/** A 3GPP (TS 29.061) vendor-specific sub-attribute. */
export const attr3gpp = (vendorType: number, value: AttributeValue): OutgoingAttribute => vendorAttr(VENDOR_3GPP, vendorType, value);
