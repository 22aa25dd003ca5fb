"""Your own image: upload a face; it is framed like the dataset, encoded and placed on the map."""
from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.ui import UPLOAD_KEY, get_engine, ldraw_download, show_faces
from explorer.upload import MAX_UPLOAD_MB, UploadError, prepare_upload
from vae.latent import place_on_map


def render_your_image() -> None:
    engine = get_engine()
    st.title("Your own image")
    st.caption("Upload a picture of a Lego face or an emoji (PNG, JPEG or WebP, up to "
               f"{MAX_UPLOAD_MB} MB). It is framed like the dataset, encoded, placed on the map, "
               "and you can use it on the Morph and Expression studio pages.")
    upload = st.file_uploader("Picture", type=["png", "jpg", "jpeg", "webp"], key="upload_file")
    if upload is not None:
        try:
            image = prepare_upload(upload.getvalue(), engine.dataset.size)
        except UploadError as error:
            st.error(str(error))
            return
        z = engine.encode_means(image[None])[0]
        st.session_state[UPLOAD_KEY] = {
            "image": image, "z": z, "name": upload.name,
            "umap_xy": place_on_map(z, engine.maps.means, engine.maps.umap_xy),
            "pca_xy": place_on_map(z, engine.maps.means, engine.maps.pca_xy),
        }
    current = st.session_state.get(UPLOAD_KEY)
    if current is None:
        st.info("No image yet.")
        return
    images, captions = [current["image"], engine.reconstruct(current["image"][None])[0]], ["framed upload",
                                                                                          "reconstruction"]
    if engine.domain_conditioned:
        images += list(engine.decode(np.stack([current["z"]] * 2), np.array([0.0, 1.0])))
        captions += ["as a Lego face", "as an emoji"]
    show_faces(images, captions, columns=5)
    ldraw_download(images[2] if engine.domain_conditioned else images[1], "upload_ldraw")
    neighbours = engine.neighbours(current["z"], 6)
    st.markdown("**Closest faces in latent space**")
    show_faces(engine.dataset.images[neighbours], [engine.dataset.name[i][:28] for i in neighbours], columns=6,
               width=112)
    st.success("Your image is now a ★ on the Latent map and can be used on the Morph and Expression studio pages.")
