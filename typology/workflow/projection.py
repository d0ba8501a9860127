"""Map projections for the report's maps: small pure functions of numpy arrays.

The maps of Russia's North span up to 190 degrees of longitude and cross the antimeridian
(Chukotka lies on both sides of 180 degrees), so raw longitude / latitude plots wrap and
squeeze the study area. :func:`projector` chooses a projection suited to the extent:

* the **central meridian** ``lon0`` is the middle of the shortest arc of longitudes holding
  every point (:func:`central_meridian`: the largest empty gap between the sorted longitudes is
  left out), and every longitude is **unwrapped** to ``lon0 +- 180`` (:func:`unwrap`), so points
  at 179.9 E and 179.9 W project next to each other;
* an **Albers equal-area conic** (Snyder 1987, eqs. 14-1 to 14-6, sphere) with standard parallels
  at one sixth and five sixths of the latitude range (Snyder's rule of thumb, "Map
  Projections: A Working Manual", USGS PP 1395, p. 99) when the data stay below 80 degrees;
* a **Lambert azimuthal equal-area** projection centred on the pole (Snyder 1987, eqs. 24-3,
  24-4, polar aspect) when the extent reaches 80 degrees of latitude or more, or when the
  points surround the pole (an arc of longitudes over 270 degrees).

Coordinates are in kilometres on the sphere of radius 6371.0088 km (the toolkit's distances).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Projection", "albers", "central_meridian", "polar_azimuthal", "projector", "unwrap"]

EARTH_RADIUS_KM = 6371.0088
POLAR_LATITUDE = 80.0  # an extent reaching this latitude is mapped on the polar azimuthal projection


def central_meridian(lon) -> float:
    """The middle of the shortest arc of longitudes holding every point (degrees in [-180, 180)).

    The sorted longitudes leave gaps between neighbours (the last one wrapping to the first + 360);
    the arc is the circle without its largest gap, so a set straddling 180 degrees has its
    middle near 180, not near 0.
    """
    x = np.sort(np.mod(np.asarray(lon, dtype=float), 360.0))
    if x.size == 0:
        return 0.0
    gaps = np.diff(np.r_[x, x[0] + 360.0])
    i = int(np.argmax(gaps))
    start = x[(i + 1) % x.size]  # the arc starts after the largest gap and ends at x[i]
    width = 360.0 - gaps[i]
    return float(np.mod(start + width / 2.0 + 180.0, 360.0) - 180.0)


def unwrap(lon, lon0: float) -> np.ndarray:
    """Longitudes relative to ``lon0``, in ``[-180, 180)``: ``((lon - lon0 + 180) mod 360) - 180``."""
    return np.mod(np.asarray(lon, dtype=float) - lon0 + 180.0, 360.0) - 180.0


def albers(lat, lon, lon0: float, lat1: float, lat2: float, lat0: float | None = None,
           radius: float = EARTH_RADIUS_KM) -> tuple[np.ndarray, np.ndarray]:
    """Albers equal-area conic on the sphere (Snyder 1987, eqs. 14-1 to 14-6).

    ``n = (sin phi1 + sin phi2) / 2``, ``C = cos^2 phi1 + 2 n sin phi1``,
    ``rho = R sqrt(C - 2 n sin phi) / n``, ``theta = n (lambda - lambda0)``,
    ``x = rho sin theta``, ``y = rho0 - rho cos theta`` (``rho0`` at ``lat0``, default the
    middle of the standard parallels). Longitudes are unwrapped around ``lon0`` first.
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    n = (np.sin(p1) + np.sin(p2)) / 2.0
    if abs(n) < 1e-12:
        raise ValueError("albers: the standard parallels are symmetric about the equator (n = 0); use a cylindrical map")
    C = np.cos(p1) ** 2 + 2.0 * n * np.sin(p1)
    phi0 = np.radians((lat1 + lat2) / 2.0 if lat0 is None else lat0)
    rho = radius * np.sqrt(C - 2.0 * n * np.sin(np.radians(np.asarray(lat, dtype=float)))) / n
    rho0 = radius * np.sqrt(C - 2.0 * n * np.sin(phi0)) / n
    theta = n * np.radians(unwrap(lon, lon0))
    return rho * np.sin(theta), rho0 - rho * np.cos(theta)


def polar_azimuthal(lat, lon, lon0: float, north: bool = True,
                    radius: float = EARTH_RADIUS_KM) -> tuple[np.ndarray, np.ndarray]:
    """Lambert azimuthal equal-area, polar aspect (Snyder 1987, eqs. 24-3, 24-4, sphere).

    North pole: ``rho = 2 R sin(pi/4 - phi/2)``, ``x = rho sin(lambda - lambda0)``,
    ``y = -rho cos(lambda - lambda0)`` (``lon0`` points down from the pole); south pole mirrored.
    """
    phi = np.radians(np.asarray(lat, dtype=float))
    lam = np.radians(unwrap(lon, lon0))
    if north:
        rho = 2.0 * radius * np.sin(np.pi / 4.0 - phi / 2.0)
        return rho * np.sin(lam), -rho * np.cos(lam)
    rho = 2.0 * radius * np.cos(np.pi / 4.0 - phi / 2.0)
    return rho * np.sin(lam), rho * np.cos(lam)


@dataclass(frozen=True)
class Projection:
    """A projection chosen for an extent: ``kind`` (``"albers"`` or ``"polar"``), its parameters
    and a ``name`` for captions; call it on (lat, lon) arrays for (x, y) in km."""

    kind: str
    lon0: float
    lat1: float = 0.0
    lat2: float = 0.0
    north: bool = True

    def __call__(self, lat, lon) -> tuple[np.ndarray, np.ndarray]:
        if self.kind == "albers":
            return albers(lat, lon, self.lon0, self.lat1, self.lat2)
        return polar_azimuthal(lat, lon, self.lon0, self.north)

    @property
    def name(self) -> str:
        if self.kind == "albers":
            return (f"Albers equal-area conic, central meridian {self.lon0:.1f}, standard parallels "
                    f"{self.lat1:.1f} and {self.lat2:.1f}")
        return f"Lambert azimuthal equal-area, {'north' if self.north else 'south'} polar aspect, central meridian {self.lon0:.1f}"


def projector(lat, lon) -> Projection:
    """The projection suited to the points (see the module docstring)."""
    lat = np.asarray(lat, dtype=float)
    lat = lat[np.isfinite(lat)]
    lon = np.asarray(lon, dtype=float)
    lon = lon[np.isfinite(lon)]
    lon0 = central_meridian(lon)
    if lat.size == 0:
        return Projection("albers", 0.0, 30.0, 60.0)
    lo, hi = float(lat.min()), float(lat.max())
    span = float(np.ptp(unwrap(lon, lon0))) if lon.size else 0.0
    north = abs(hi) >= abs(lo)
    if max(abs(lo), abs(hi)) >= POLAR_LATITUDE or span > 270.0:
        return Projection("polar", lon0, north=north)
    if hi - lo < 1e-6:
        lo, hi = lo - 1.0, hi + 1.0
    lat1, lat2 = lo + (hi - lo) / 6.0, hi - (hi - lo) / 6.0
    if abs(np.sin(np.radians(lat1)) + np.sin(np.radians(lat2))) < 1e-6:  # straddles the equator symmetrically
        lat1, lat2 = lo, lo + (hi - lo) / 3.0
    return Projection("albers", lon0, lat1, lat2)
